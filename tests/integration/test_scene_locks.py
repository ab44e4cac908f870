"""Scene redo, locks and pins on the offline models (small settings, as the chat tests use).

A chat redo computes only its scene and the video; a locked scene survives a critic that fails every
picture (a gate no picture can pass, not a mock) while an edit of every scene changes and revises the
others; a session's pins reach the plan of a later turn."""
import pytest

from agent.llm import ServerLLM
from agent.planning.dispatch import plan_run
from agent.recipes.redo import SceneLocked
from agent.service.chat import create_session, record_reply, start_turn
from agent.service.pins import pin_turn, set_pins
from agent.service.redo import set_locked
from agent.service.runs import execute_run
from agent.settings import LLMSettings
from memory import repo

STORY = "a bedtime story about a lighthouse keeper and a seal, two scenes"


@pytest.fixture
def small(runtime):
    """Small, fast stories judged but not revised; the LLM is a closed port (deterministic storyboards)."""
    story = runtime.settings.story.model_copy(update={"image_size": 64, "image_steps": 2, "video_size": 64,
                                                      "video_fps": 4})
    critic = runtime.settings.critic.model_copy(update={"max_rounds": 0})
    runtime.settings = runtime.settings.model_copy(update={"story": story, "critic": critic})
    runtime._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=1))
    return runtime


def _run(rt, run_id: str) -> dict:
    summary = execute_run(rt, run_id)
    assert summary["status"] == "succeeded", summary["error"]
    record_reply(rt, run_id)
    return summary


def _delivered(rt, summary: dict) -> dict[str, str]:
    """Scene step -> sha256 of what the run delivered for it."""
    with rt.db.session() as s:
        return {a["role"].split(".")[0]: repo.get_asset(s, a["id"]).sha256 for a in summary["assets"]
                if a["selected"] and a["kind"] in ("image", "audio")}


def _failing_critic(rt):
    """A gate no picture passes (the floor is over the highest CLIP score), one revision round."""
    gates = rt.settings.critic.gates.model_copy(
        update={"offline": rt.settings.critic.gates.offline.model_copy(update={"clip_floor": 101.0})})
    critic = rt.settings.critic.model_copy(update={"max_rounds": 1, "gates": gates})
    rt.settings = rt.settings.model_copy(update={"critic": critic})


def test_redo_then_a_locked_scene_survives_a_failing_critic(small):
    session = create_session(small)
    first = _run(small, start_turn(small, session, STORY, seed=4))

    redo = _run(small, start_turn(small, session, "redo scene 2 with a new seed"))
    assert sorted(s["key"] for s in redo["steps"] if not s["cached"]) == ["image-2", "speech-2", "video"]
    assert redo["steps_reused"] == 2 and redo["session_id"] == session
    before, after = _delivered(small, first), _delivered(small, redo)
    assert after["image-1"] == before["image-1"] and after["image-2"] != before["image-2"]

    set_locked(small, redo["id"], 1, True)
    with pytest.raises(SceneLocked, match="^scene 1 is locked$"):
        start_turn(small, session, "redo the first scene")
    with pytest.raises(SceneLocked, match="^scene 1 is locked$"):
        start_turn(small, session, "in scene 1 add a rainbow")
    _failing_critic(small)
    edited = _run(small, start_turn(small, session, "make it snow"))  # every scene but the locked one
    steps = {s["key"]: s for s in edited["steps"]}
    assert steps["image-2"]["rounds"] == 1 and steps["image-2"]["passed"] is False  # the critic really failed
    assert steps["image-1"]["rounds"] == 0 and steps["image-1"]["cached"] and steps["speech-1"]["cached"]
    assert "image-1~r1" not in steps
    kept, changed = _delivered(small, redo), _delivered(small, edited)
    assert changed["image-1"] == kept["image-1"] and changed["speech-1"] == kept["speech-1"]
    assert changed["image-2"] != kept["image-2"]
    with small.db.session() as s:
        board = repo.get_run(s, edited["id"]).info["storyboard"]["board"]
    assert [sc["locked"] for sc in board["scenes"]] == [True, False]
    assert "snow" in board["scenes"][1]["picture"] and "snow" not in board["scenes"][0]["picture"]


def test_pins_reach_a_later_turn_until_unpinned(small):
    session = create_session(small)
    set_pins(small, session, {"seed": 40})
    view = pin_turn(small, session, "pin the style watercolour, soft morning light")
    assert view["pins"] == {"seed": 40, "style": "watercolour, soft morning light"}
    assert view["messages"][-1]["content"].startswith("Pinned the style “watercolour, soft morning light” and seed 40")
    pinned = start_turn(small, session, "a story about a fox in two scenes", seed=3)
    plan = plan_run(small, pinned, lambda event: None)
    images = [s for s in plan.steps if s.tool == "generate_image"]
    assert [s.args["seed"] for s in images] == [41, 42]
    assert all("Style: watercolour, soft morning light." in s.args["prompt"] for s in images)

    assert pin_turn(small, session, "unpin")["pins"] == {}
    plain = plan_run(small, start_turn(small, session, "a story about a fox in two scenes", seed=3), lambda e: None)
    assert [s.args["seed"] for s in plain.steps if s.tool == "generate_image"] == [4, 5]
    assert not any("Style:" in s.args.get("prompt", "") for s in plain.steps)
    with pytest.raises(KeyError):
        set_pins(small, "f" * 32, {"seed": 1})
