"""Chat turns on the offline models: a story, then an edit of one scene that keeps the others byte
for byte, then a new request planned with the session's history and characters.

The LLM is the scripted OpenAI-compatible server (tests/fixtures/fake_openai.py), so the storyboard
and the rewrite are known and every message the LLM was sent can be read back."""
import pytest

from agent.llm import ServerLLM
from agent.planning.dispatch import plan_run
from agent.service.chat import create_session, record_reply, session_view, start_turn
from agent.service.runs import execute_run
from agent.settings import LLMSettings
from memory import repo

# The grounded storyboard asks for scene 1 (with a title) about the keeper, then scene 2 about the seal.
SCENES = [
    {"title": "The Keeper and the Seal",
     "narration": "The lighthouse keeper climbed the stairs every evening, and she lit the great lamp for the boats."},
    {"narration": "The seal swam up to the rocks one morning and barked hello to the keeper at the door."},
]
REWRITE = {"picture": "A grey seal pup in a red scarf on the rocks below a lighthouse"}


@pytest.fixture
def chat(runtime, fake_openai):
    """The runtime with small, fast story settings, no revision rounds, and the scripted LLM."""
    story = runtime.settings.story.model_copy(update={"image_size": 64, "image_steps": 2, "video_size": 64,
                                                      "video_fps": 4})
    critic = runtime.settings.critic.model_copy(update={"max_rounds": 0})
    runtime.settings = runtime.settings.model_copy(update={"story": story, "critic": critic})
    runtime._llm = ServerLLM(LLMSettings(base_url=fake_openai.base_url, model="test-model", timeout=10))
    return runtime


def _images(rt, run_id) -> dict[str, tuple[str, str]]:
    """Scene image step -> (prompt, sha256)."""
    with rt.db.session() as s:
        steps = {st.key: st for st in repo.list_steps(s, run_id)}
        return {a.role.split(".")[0]: (steps[a.role.split(".")[0]].args["prompt"], a.sha256)
                for a in repo.list_assets(s, run_id=run_id) if a.kind == "image"}


def _audio(rt, run_id) -> dict[str, str]:
    with rt.db.session() as s:
        return {a.role.split(".")[0]: a.sha256 for a in repo.list_assets(s, run_id=run_id) if a.kind == "audio"}


def test_an_edit_changes_one_scene_and_keeps_the_rest(chat, fake_openai):
    session = create_session(chat, api_key_id=None)
    fake_openai.script(*SCENES)
    first = start_turn(chat, session, "a bedtime story about a lighthouse keeper and a seal, two scenes", seed=4)
    assert execute_run(chat, first)["status"] == "succeeded"
    record_reply(chat, first)

    fake_openai.script(REWRITE)
    second = start_turn(chat, session, "make the seal wear a red scarf in scene 2")
    summary = execute_run(chat, second)
    assert summary["status"] == "succeeded", summary["error"]
    record_reply(chat, second)
    record_reply(chat, second)  # a repeated call (a resumed worker) adds nothing

    with chat.db.session() as s:
        run = repo.get_run(s, second)
        assert run.kind == "story" and run.seed == 4 and run.session_id == session
        assert run.info["chat"]["base_run"] == first
        assert run.info["chat"]["edit"] == {"scene": 2, "instruction": "make the seal wear a red scarf"}
        assert run.info["storyboard"]["source"] == "edit" and run.title == "The Keeper and the Seal"
        cast = [e.name for e in repo.list_entities(s, session_id=session)]
        assert cast == ["the lighthouse keeper", "the seal"]  # not again for the edit
    before, after = _images(chat, first), _images(chat, second)
    assert after["image-1"] == before["image-1"]  # same prompt, and the very same bytes from the cache
    assert after["image-2"][0] == ("A grey seal pup in a red scarf on the rocks below a lighthouse. "
                                   "Picture-book illustration. Setting: the lighthouse. Characters: "
                                   "the lighthouse keeper: a lighthouse keeper; the seal: a seal.")
    assert after["image-2"][1] != before["image-2"][1]
    assert _audio(chat, second) == _audio(chat, first)  # the narration did not change
    # The LLM was asked only to rewrite scene 2's picture: no new storyboard.
    asked = [r.body["messages"][-1]["content"] for r in fake_openai.completions()]
    assert len(asked) == 3 and "Change: make the seal wear a red scarf" in asked[2]

    view = session_view(chat, session)
    assert view["title"] == "a bedtime story about a lighthouse keeper and a seal, two scenes"
    assert [(m["role"], m["run_id"]) for m in view["messages"]] == [
        ("user", first), ("assistant", first), ("user", second), ("assistant", second)]
    assert view["messages"][1]["content"] == \
        "“The Keeper and the Seal” is ready: an illustrated, narrated story in 2 scenes."
    assert view["messages"][3]["content"] == ("“The Keeper and the Seal” is ready: scene 2 changed "
                                              "(make the seal wear a red scarf); the other scenes are kept.")

    # A scene the story does not have: a one-line error, and nothing is recorded.
    with pytest.raises(ValueError, match="^scene 3 does not exist: the story has 2 scenes$"):
        start_turn(chat, session, "in the third scene add a rainbow")
    assert len(session_view(chat, session)["messages"]) == 4

    # A new request is planned with the session's history and characters.
    fake_openai.script(401)
    third = start_turn(chat, session, "draw a red fox in snow and read a caption of it aloud")
    plan_run(chat, third, lambda event: None)
    sent = fake_openai.completions()[-1].body["messages"][-1]["content"]
    assert "- a bedtime story about a lighthouse keeper and a seal, two scenes" in sent
    assert "- make the seal wear a red scarf in scene 2" in sent
    assert "(earlier story run “The Keeper and the Seal”: succeeded)" in sent
    assert "Known characters and things: the lighthouse keeper: a lighthouse keeper; the seal: a seal" in sent
    assert "in scene 3" not in sent and sent.endswith("Request: draw a red fox in snow and read a caption of it aloud")


def test_turns_belong_to_their_session_and_key(runtime):
    session = create_session(runtime, api_key_id=None, title="mine")
    with pytest.raises(KeyError):
        start_turn(runtime, "f" * 32, "a story about a fox")
    with pytest.raises(KeyError):  # another key's session is not there for it
        session_view(runtime, session, api_key_id="k" * 32)
    with pytest.raises(ValueError, match="^the message is empty"):
        start_turn(runtime, session, "   ")
    with pytest.raises(ValueError, match="^there is no finished story in this session, so scene 2 cannot"):
        start_turn(runtime, session, "make scene 2 at night")
    run_id = start_turn(runtime, session, "a story about a fox in four scenes", seed=9)
    with runtime.db.session() as s:
        run = repo.get_run(s, run_id)
        assert (run.kind, run.info["scenes"], run.seed, run.status) == ("story", 4, 9, "queued")
    with pytest.raises(ValueError, match="has not finished"):
        record_reply(runtime, run_id)
    assert session_view(runtime, session)["title"] == "mine"
