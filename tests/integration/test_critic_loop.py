"""The critic loop on a real story run: a scripted scorer decides, everything else is real."""
import json
from pathlib import Path

import pytest

from agent import critic
from agent.critic import Verdict, gate_image
from agent.graph import route_after_critique
from agent.llm import ServerLLM
from agent.requests import StoryRequest
from agent.service.runs import create_story_run, execute_run
from agent.settings import Gate, LLMSettings
from memory import repo


def _script(monkeypatch, values: list[float], passing: set[int]):
    """Candidates are judged in the order they appear: the n-th gets values[n], passing if n in passing."""
    seen: list[str] = []

    def scripted(executor, run_id, images, prompts, gate):
        out = {}
        for asset_id in images:
            n = len(seen)
            seen.append(asset_id)
            out[asset_id] = Verdict(passed=n in passing, value=values[n], reasons=[] if n in passing else ["scripted"])
        return out

    monkeypatch.setattr(critic, "score_images", scripted)
    return seen


def _story(runtime, rounds: int):
    runtime._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=1))
    runtime.settings = runtime.settings.model_copy(
        update={"critic": runtime.settings.critic.model_copy(update={"max_rounds": rounds})})
    run_id = create_story_run(runtime, StoryRequest(prompt="a fox in the snow", scenes=1, seed=2))
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "succeeded", summary["error"]
    return run_id, summary


def test_fail_then_pass_is_one_revision_with_the_second_selected(runtime, monkeypatch):
    seen = _script(monkeypatch, values=[1.0, 2.0], passing={1})
    run_id, summary = _story(runtime, rounds=2)
    assert len(seen) == 2
    with runtime.db.session() as s:
        step = repo.get_step(s, run_id, "image-1")
        assert step.values["rounds"] == 1 and step.values["candidates"] == seen and step.values["selected"] == seen[1]
        first, second = repo.get_asset(s, seen[0]), repo.get_asset(s, seen[1])
        assert second.parent_id == first.id and second.seed != first.seed and second.role == "image-1~r1.image"
        videos = [a for a in repo.list_assets(s, run_id=run_id) if a.kind == "video"]
    assert len(videos) == 2  # the story video was rebuilt from the winner
    manifest = json.loads((Path(summary["output_dir"]) / "manifest.json").read_text())
    by_id = {a["id"]: a for a in manifest["assets"]}
    assert by_id[seen[1]]["selected"] is True and by_id[seen[0]]["selected"] is False
    assert by_id[seen[1]]["rounds"] == 1 and by_id[seen[0]]["path"].startswith("candidates/")
    assert (Path(summary["output_dir"]) / by_id[seen[0]]["path"]).is_file()
    assert [v["selected"] for v in manifest["assets"] if v["kind"] == "video"] == [False, True]
    html = (Path(summary["output_dir"]) / "storybook.html").read_text()
    assert "image-1.png" in html and "candidates/" not in html


def test_always_failing_stops_at_max_rounds_and_keeps_the_best(runtime, monkeypatch):
    seen = _script(monkeypatch, values=[1.0, 3.0, 2.0], passing=set())
    run_id, summary = _story(runtime, rounds=2)
    assert len(seen) == 3
    with runtime.db.session() as s:
        step = repo.get_step(s, run_id, "image-1")
        assert step.values["rounds"] == 2 and step.values["selected"] == seen[1]
        assert repo.get_asset(s, seen[2]).parent_id == seen[1]  # round 2 revised the best so far
        rewritten = repo.get_asset(s, seen[2]).intent
    winners = [a for a in summary["assets"] if a["selected"] and a["kind"] == "image"]
    assert [a["id"] for a in winners] == [seen[1]]
    assert rewritten  # round 2 rewrote the prompt (deterministic emphasis: no LLM answered)


def test_zero_rounds_scores_only(runtime, monkeypatch):
    seen = _script(monkeypatch, values=[1.0], passing=set())
    run_id, summary = _story(runtime, rounds=0)
    assert len(seen) == 1 and summary["steps"][0]["rounds"] == 0


def test_real_clip_gate_scores_are_stored_with_reasons(runtime):
    run_id, summary = _story(runtime, rounds=1)
    with runtime.db.session() as s:
        scores = repo.list_scores(s, run_id=run_id)
    metrics = {sc.metric for sc in scores}
    # One scene: no sibling to compare for identity; the winner's caption is scored once the loop ends.
    assert metrics == {"clip_score", "clip_gate", "narration_wer", "caption_score"}
    wer = [sc for sc in scores if sc.metric == "narration_wer"]
    assert wer and all("passed" in sc.details and "hypothesis" in sc.details for sc in wer)
    gates = [sc for sc in scores if sc.metric == "clip_gate"]
    assert all("passed" in g.details and "reasons" in g.details for g in gates)
    clip = [sc for sc in scores if sc.metric == "clip_score"]
    assert all(sc.details["baseline_prompts"] >= len(critic.DECOYS) for sc in clip)


def test_failing_narration_is_spoken_slower(runtime, monkeypatch):
    heard: list[str] = []

    def scripted(executor, run_id, clips, gate):
        out = {}
        for asset_id in clips:
            heard.append(asset_id)
            first = len(heard) == 1
            out[asset_id] = Verdict(passed=not first, value=-50.0 if first else 0.0,
                                    reasons=["scripted: words lost"] if first else [])
        return out

    monkeypatch.setattr(critic, "score_narration", scripted)
    run_id, summary = _story(runtime, rounds=2)
    assert len(heard) == 2
    with runtime.db.session() as s:
        original, slower = repo.get_asset(s, heard[0]), repo.get_asset(s, heard[1])
        assert slower.parent_id == original.id and slower.params["speed"] == 0.9 and original.params["speed"] == 1.0
        assert slower.intent == original.intent  # the words are kept: subtitles and storybook show them
        assert repo.get_step(s, run_id, "speech-1").values["selected"] == slower.id


@pytest.mark.parametrize("cosine,baseline,passed,reason", [
    (0.30, 0.20, True, None),
    (0.30, 0.29, False, "needs +2.0"),
    (0.15, 0.05, False, "under the floor 20.0"),
])
def test_gate_is_relative_to_the_baseline_with_a_floor(cosine, baseline, passed, reason):
    verdict = gate_image(cosine, baseline, Gate(clip_margin=2.0, clip_floor=20.0))
    assert verdict.passed is passed and verdict.value == pytest.approx(100 * (cosine - baseline))
    assert reason is None or reason in " ".join(verdict.reasons)


@pytest.mark.parametrize("state,expected", [
    ({"status": "failed"}, "deliver"),
    ({"failing": ["image-1"], "round": 0, "max_rounds": 2, "plan": {"steps": []}}, "revise"),
    ({"failing": ["image-1"], "round": 2, "max_rounds": 2, "plan": {"steps": [{"id": "v"}]}, "outputs": {}},
     "execute"),
    ({"failing": [], "round": 1, "max_rounds": 2, "plan": {"steps": [{"id": "v"}]}, "outputs": {"v": {}}},
     "deliver"),
])
def test_route_after_critique(state, expected):
    assert route_after_critique(state) == expected


def test_an_identical_rerun_reuses_scores_instead_of_recomputing(runtime):
    first_run, _ = _story(runtime, rounds=1)
    heard = runtime.models.busy_seconds["stt"]
    second_run, _ = _story(runtime, rounds=1)
    assert runtime.models.busy_seconds["stt"] == heard  # nothing was transcribed again
    with runtime.db.session() as s:
        def wer(run_id):
            return sorted(sc.value for sc in repo.list_scores(s, run_id=run_id) if sc.metric == "narration_wer")
        assert wer(second_run) == wer(first_run) and wer(first_run)
