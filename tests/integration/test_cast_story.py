"""A story naming a banked character (issue 15): its look in every picture prompt, its reference picture
conditioning every picture step (in the plan and in the asset's lineage), an identity score recorded,
and the run's own copy of the character surviving the entity's deletion."""
import io

import numpy as np
import pytest
from PIL import Image

from agent import cast_bank
from agent.identity import score_identity
from agent.llm import ServerLLM
from agent.plan_schema import Plan
from agent.planning.dispatch import plan_run
from agent.requests import StoryRequest
from agent.revise import revised_args
from agent.service import chat
from agent.service.runs import create_story_run, execute_run
from agent.settings import LLMSettings
from api.auth import create_key
from memory import repo

LOOK = "a tall otter in a red knitted scarf"


def _png(colour: tuple[int, int, int]) -> bytes:
    pixels = np.zeros((96, 96, 3), dtype=np.uint8)
    pixels[:, :] = colour
    pixels[24:72, 24:72] = (255 - colour[0], 200, 40)  # a figure in the middle
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="PNG")
    return buf.getvalue()


def _quiet(runtime, rounds: int = 1, identity_margin: float = 0.0):
    """No LLM (the storyboard falls back deterministically, fast); `rounds` critic revisions; the offline
    gate's identity margin in points."""
    runtime._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=1))
    critic = runtime.settings.critic
    gates = critic.gates.model_copy(update={"offline": critic.gates.offline.model_copy(
        update={"identity_margin": identity_margin})})
    runtime.settings = runtime.settings.model_copy(
        update={"critic": critic.model_copy(update={"max_rounds": rounds, "gates": gates})})
    return runtime


def test_a_planned_picture_of_a_banked_character_is_conditioned_and_gated(runtime):
    """Fast (default run): the plan's picture step carries the reference and strength, the picture made
    from it records them in its lineage, and the identity gate scores it against the reference."""
    rt = _quiet(runtime)
    mara = cast_bank.add_entity(rt, owner=None, kind="character", name="Mara", look=LOOK,
                                reference=_png((20, 60, 160)))
    run_id = create_story_run(rt, StoryRequest(prompt="a bedtime story about Mara by the river", scenes=1, seed=5))
    plan = plan_run(rt, run_id, emit=lambda e: None)
    image = next(step for step in plan.steps if step.tool == "generate_image")
    with rt.db.session() as s:
        copy = repo.get_run(s, run_id).info["cast"]["Mara"]
        assert repo.get_asset(s, copy["reference"]).sha256 == mara["reference_sha256"]
    assert (image.args["reference"], image.args["strength"]) == (copy["reference"], cast_bank.CAST_STRENGTH)
    assert LOOK in image.args["prompt"]
    executor = rt.executor_for(run_id)
    [outcome] = executor.run_wave(Plan(kind="story", steps=[image]), {})
    assert outcome.status == "succeeded", outcome.error
    picture = outcome.outputs["image"]
    params = executor.asset_view(picture).params
    assert (params["reference"], params["strength"], params["ip_adapter_scale"]) == (copy["reference"], 0.6, None)
    gate = rt.settings.critic.gates.offline
    for margin, passed in ((-200.0, True), (200.0, False)):  # cosines are in [-1, 1]: +-200 points decide
        verdict = score_identity(executor, run_id, [picture], gate.model_copy(update={"identity_margin": margin}))
        assert verdict[picture].passed is passed
    with rt.db.session() as s:
        [score] = [sc for sc in repo.list_scores(s, run_id=run_id) if sc.metric == "identity_reference"]
    assert score.asset_id == picture and -1.0 <= score.value <= 1.0 and score.details["character"] == "Mara"
    assert score.details["strength"] == 0.6 and score.details["unrelated"] == 4  # four decoys, no other banked
    assert revised_args("generate_image", image.args, 1, [], None)["strength"] == 0.45  # stronger conditioning


@pytest.mark.slow
def test_a_banked_character_conditions_the_pictures_and_is_scored(runtime):
    # A margin no picture reaches (100 points of cosine): the identity gate fails, so one revision is made
    # with a new seed and stronger conditioning (a lower strength), and both candidates are scored.
    rt = _quiet(runtime, rounds=1, identity_margin=100.0)
    mara = cast_bank.add_entity(rt, owner=None, kind="character", name="Mara", look=LOOK, voice="heart",
                                reference=_png((20, 60, 160)))
    cast_bank.add_entity(rt, owner=None, kind="character", name="Ines", look="a small grey owl",
                         reference=_png((200, 40, 40)))
    request = StoryRequest(prompt="a bedtime story about Mara by the river", scenes=1, seed=5, save_cast=True)
    run_id = create_story_run(rt, request)
    deleted = []

    def delete_when_the_pictures_start(event: dict) -> None:  # the run keeps its own copy of the character
        if event.get("type") == "step" and not deleted:
            with rt.db.session() as s:
                deleted.append(repo.delete_cast_entity(s, mara["id"], owner=None))

    summary = execute_run(rt, run_id, emit=delete_when_the_pictures_start)
    assert summary["status"] == "succeeded", summary["error"]
    assert deleted == [True]
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        copy = run.info["cast"]["Mara"]
        assert set(run.info["cast"]) == {"Mara"} and copy["entity_id"] == mara["id"]
        reference = repo.get_asset(s, copy["reference"])
        assert reference.run_id == run_id and reference.sha256 == mara["reference_sha256"]
        image_steps = [st for st in run.plan["steps"] if st["tool"] == "generate_image"]
        assert image_steps and all(st["args"]["reference"] == copy["reference"] for st in image_steps)
        assert all(st["args"]["strength"] == cast_bank.CAST_STRENGTH and LOOK in st["args"]["prompt"]
                   for st in image_steps)
        speech = [st for st in run.plan["steps"] if st["tool"] == "speak"]
        assert all(st["args"]["voice"] == "heart" for st in speech)
        pictures = [a for a in repo.list_assets(s, run_id=run_id) if a.kind == "image" and a.tool == "generate_image"]
        assert all(a.params["reference"] == copy["reference"] for a in pictures)
        assert sorted(a.params["strength"] for a in pictures) == [0.45, cast_bank.CAST_STRENGTH]  # original, revision
        scores = {sc.asset_id: sc for sc in repo.list_scores(s, run_id=run_id) if sc.metric == "identity_reference"}
        assert len(pictures) == 2 and set(scores) == {a.id for a in pictures}
        for score in scores.values():
            details = score.details
            assert -1.0 <= score.value <= 1.0 and details["character"] == "Mara" and details["unrelated"] == 4
            assert details["passed"] is False and "does not look like its reference" in details["reasons"][0]
            assert details["value"] == pytest.approx(100 * (score.value - details["baseline_cosine"]), abs=1e-3)
            assert details["strength"] == next(a for a in pictures if a.id == score.asset_id).params["strength"]
        image_1 = repo.get_step(s, run_id, "image-1")
        assert image_1.values["rounds"] == 1 and image_1.values["selected"] in scores
        # save_cast: Mara (deleted above) is banked again from this story, its first picture as reference
        saved = repo.find_cast_entity(s, owner=None, kind="character", name="Mara")
        assert saved.id != mara["id"] and saved.look == LOOK and saved.voice == "heart"
        assert saved.reference_sha256 == repo.get_asset(s, image_1.values["selected"]).sha256
        assert run.info["saved_cast"][0] == saved.id


def test_the_bank_is_per_key_and_names_are_whole_words(runtime):
    first, second = (create_key(runtime.db, name)[0] for name in ("first", "second"))
    cast_bank.add_entity(runtime, owner=first, kind="character", name="Mara", look="an otter")
    cast_bank.add_entity(runtime, owner=second, kind="character", name="Mara", look="a tall woman")
    cast_bank.add_entity(runtime, owner=second, kind="character", name="Pip", look="a grey seal")
    story = "a story about Mara and Pip at sea"
    assert [e["look"] for e in cast_bank.banked(runtime, first, story)] == ["an otter"]
    assert [e["look"] for e in cast_bank.banked(runtime, second, story)] == ["a tall woman", "a grey seal"]
    assert cast_bank.banked(runtime, None, story) == []  # the command line's own bank is empty
    assert cast_bank.banked(runtime, second, "a story about Marabou storks and a pipe") == []


def test_a_chat_turn_asks_to_keep_the_cast(runtime):
    session = chat.create_session(runtime)
    kept = chat.start_turn(runtime, session, "a bedtime story about Mara and Pip, and keep Mara and Pip for later")
    flagged = chat.start_turn(runtime, session, "a story about a fox in the snow", save_cast=True)
    plain = chat.start_turn(runtime, session, "a story about a fox in the snow")
    with runtime.db.session() as s:
        infos = [repo.get_run(s, run_id).info for run_id in (kept, flagged, plain)]
    assert [info.get("save_cast") for info in infos] == [["Mara", "Pip"], True, None]


def test_a_banked_place_is_the_setting_and_a_banked_style_ends_every_picture_prompt(runtime):
    rt = _quiet(runtime)
    cast_bank.add_entity(rt, owner=None, kind="place", name="Willow Bend", look="a misty river bend with willows")
    cast_bank.add_entity(rt, owner=None, kind="style", name="inkwash", look="soft ink wash, muted blues")
    cast_bank.add_entity(rt, owner=None, kind="style", name="neon", look="neon glow")  # not named: not used
    run_id = create_story_run(rt, StoryRequest(prompt="an inkwash story about a heron at Willow Bend", scenes=2))
    plan = plan_run(rt, run_id, emit=lambda e: None)
    prompts = [s.args["prompt"] for s in plan.steps if s.tool == "generate_image"]
    assert len(prompts) == 2
    assert all(p.endswith("Style: soft ink wash, muted blues.") and "neon" not in p for p in prompts)
    with rt.db.session() as s:
        assert repo.get_run(s, run_id).info["storyboard"]["board"]["setting"] == "a misty river bend with willows"
        assert "cast" not in repo.get_run(s, run_id).info  # no banked character named: nothing conditioned


@pytest.mark.slow
def test_keep_them_for_later_banks_the_sessions_story_cast_from_the_cache(runtime):
    rt = _quiet(runtime, rounds=0)
    session = chat.create_session(rt)
    story = chat.start_turn(rt, session, "a bedtime story about Mara and Pip by the sea")
    assert execute_run(rt, story)["status"] == "succeeded"
    keep = chat.start_turn(rt, session, "keep Mara and Pip for later")
    summary = execute_run(rt, keep)
    assert summary["status"] == "succeeded", summary["error"]
    assert summary["cost"]["cache_hits"] == len(summary["steps"])  # the same story, nothing made again
    chat.record_reply(rt, keep)
    with rt.db.session() as s:
        banked = {e.name: e for e in repo.list_cast_entities(s, owner=None, kind="character")}
        first = repo.get_asset(s, repo.get_step(s, story, "image-1").values["selected"])
        reply = repo.list_messages(s, session)[-1].content
    assert set(banked) == {"Mara", "Pip"} and all(e.reference_sha256 == first.sha256 for e in banked.values())
    assert reply.startswith("Kept 2 character(s)")
