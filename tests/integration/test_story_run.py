"""A story run through the real graph on the offline models: plan, execute, critique, deliver."""
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from agent.llm import ServerLLM
from agent.recipes.story import write_storyboard
from agent.requests import StoryRequest
from agent.service.runs import create_story_run, execute_run
from agent.settings import LLMSettings
from memory import repo
from tools.model_manager import ModelManager

PROMPT = "a bedtime story about a lighthouse keeper and a seal"


def _offline_llm(runtime):
    """A real OpenAI client aimed at a closed loopback port: the storyboard must fall back."""
    runtime._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=2))
    return runtime


def test_embedded_llm_writes_a_schema_valid_storyboard(runtime):
    result = write_storyboard(runtime.llm, PROMPT, 2, seed=3, max_tokens=160)
    board = result.storyboard
    assert result.source in ("llm", "mixed")
    assert board.title and 1 <= len(board.characters) <= 3 and len(board.scenes) == 2
    assert all(s.narration and s.picture for s in board.scenes)
    assert bool(result.notes) == (result.source == "mixed")


def test_unreachable_llm_falls_back_and_says_so(runtime):
    result = write_storyboard(_offline_llm(runtime).llm, PROMPT, 2, seed=3)
    assert result.source == "fallback" and result.notes[0].startswith("the LLM could not be asked")
    assert result.storyboard.scenes[0].narration.startswith("Once upon a time there was a lighthouse keeper")


def test_story_run_records_lineage_scores_and_checkpoints(runtime):
    # Scoring only: the revision loop has its own tests (test_critic_loop.py).
    runtime.settings = runtime.settings.model_copy(
        update={"critic": runtime.settings.critic.model_copy(update={"max_rounds": 0})})
    run_id = create_story_run(_offline_llm(runtime), StoryRequest(prompt=PROMPT, scenes=2, seed=4))
    events = []
    summary = execute_run(runtime, run_id, emit=events.append)
    assert summary["status"] == "succeeded", summary["error"]
    assert [s["key"] for s in summary["steps"]] == ["image-1", "speech-1", "image-2", "speech-2", "video"]
    assert {e["step"] for e in events if e["type"] == "step"} == {"image-1", "speech-1", "image-2", "speech-2", "video"}
    with runtime.db.session() as s:
        assets = repo.list_assets(s, run_id=run_id)
        scores = repo.list_scores(s, run_id=run_id)
        run = repo.get_run(s, run_id)
        steps = {st.id: st.key for st in repo.list_steps(s, run_id)}
        for a in assets:
            assert a.run_id == run_id and steps[a.step_id] == a.role.split(".")[0] and a.tool
            assert runtime.store.verify(a.sha256) and a.size == runtime.store.path(a.sha256).stat().st_size
            assert a.intent and a.mime
        images = [a for a in assets if a.kind == "image"]
        assert [a.seed for a in images] == [5, 6] and all(a.model_id == "storyloom/tiny-sd" for a in images)
        assert all(a.width == a.height == runtime.settings.story.image_size for a in images)
        assert {sc.metric for sc in scores} == {"clip_score", "clip_gate", "narration_wer", "caption_score",
                                                "identity_consistency"}
        identity = {sc.asset_id: sc.value for sc in scores if sc.metric == "identity_consistency"}
        assert sorted(identity) == sorted(a.id for a in images) and identity[images[0].id] == 1.0
        clip = [sc for sc in scores if sc.metric == "clip_score"]
        assert sorted(sc.asset_id for sc in clip) == sorted(a.id for a in images)
        assert all("cosine" in sc.details and "baseline_cosine" in sc.details for sc in clip)
        assert run.info["storyboard"]["source"] == "fallback" and run.plan["kind"] == "story"
    checkpoints = sqlite3.connect(runtime.checkpoint_path).execute(
        "select count(*) from checkpoints where thread_id = ?", (run_id,)).fetchone()[0]
    assert checkpoints >= 4


def test_a_failing_tool_fails_the_run_with_its_reason(runtime, models_dir, tmp_path):
    broken_dir = tmp_path / "models"
    shutil.copytree(models_dir / "tiny" / "tiny-sd", broken_dir / "tiny" / "tiny-sd")
    (broken_dir / "tiny" / "tiny-sd" / "unet" / "config.json").write_text("{not json")
    runtime.models = ModelManager("offline", broken_dir)
    run_id = create_story_run(_offline_llm(runtime), StoryRequest(prompt=PROMPT, scenes=1))
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "failed"
    assert summary["error"].startswith("step image-1 failed: model storyloom/tiny-sd (text_to_image) failed to load")
    manifest = json.loads((Path(summary["output_dir"]) / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"] == summary["error"]
    assert not (Path(summary["output_dir"]) / "storybook.html").exists()


@pytest.mark.parametrize("state,expected", [
    ({"status": "failed", "plan": {"steps": []}}, "deliver"),
    ({"status": "running", "plan": {"steps": [{"id": "a"}]}, "outputs": {"a": {}}}, "critique"),
    ({"status": "running", "plan": {"steps": [{"id": "a"}, {"id": "b"}]}, "outputs": {"a": {}}, "passes": 1},
     "execute"),
    ({"status": "running", "plan": {"steps": [{"id": "a"}]}, "outputs": {}, "passes": 3}, "deliver"),
])
def test_route_after_execute(state, expected):
    from agent.graph import route_after_execute

    assert route_after_execute(state) == expected


def test_deliver_never_overwrites_one_file_with_another(runtime, tmp_path):
    """Two assets that would get the same file name (e.g. LLM answers from planning and from a
    revision round) both land, each under a name whose bytes match its sha256."""
    import hashlib

    from agent.deliver import deliver_run

    with runtime.db.session() as s:
        run = repo.create_run(s, kind="freeform", request="t", profile="offline", output_dir=str(tmp_path / "out"))
        for text in (b'{"a": 1}', b'{"b": 2}'):
            sha, _ = runtime.store.put(text)
            repo.create_asset(s, run_id=run.id, tool="llm", name="answer", role="llm-1", kind="document",
                              mime="application/json", sha256=sha, size=len(text))
    manifest = deliver_run(runtime, run.id, status="succeeded", error=None)
    paths = [a["path"] for a in manifest["assets"]]
    assert len(set(paths)) == 2
    for asset in manifest["assets"]:
        assert hashlib.sha256((tmp_path / "out" / asset["path"]).read_bytes()).hexdigest() == asset["sha256"]
