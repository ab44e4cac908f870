"""Budgets and cost on real runs of the offline models: a run past a limit (seconds, model calls,
critic rounds) stops there and ends failed with an error starting "budget:", keeping what it made;
every summary reports what the run cost. Only the critic's verdicts are scripted (as in
test_critic_loop), so that a revision round is certain."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent import critic
from agent.critic import Verdict
from agent.llm import ServerLLM
from agent.recipes.brief import Brief
from agent.requests import Budget, StoryRequest
from agent.service.chat import create_session, start_turn
from agent.service.runs import create_brief_run, create_story_run, execute_run
from agent.settings import LLMSettings
from memory import repo

IMAGE_THEN_CAPTION = [{"kind": "image", "width": 64, "height": 64, "steps": 2}, {"kind": "caption", "of": 0}]


def _brief(runtime, deliverables: list[dict], budget: dict | None = None) -> str:
    runtime.settings.critic.max_rounds = 0
    return create_brief_run(runtime, Brief.model_validate(
        {"goal": "a lighthouse at night", "seed": 3, "deliverables": deliverables, "budget": budget}))


def test_budgets_are_validated_before_anything_is_created():
    assert Budget(seconds=30, model_calls=0).limits() == {"seconds": 30, "model_calls": 0}
    for bad in ({"seconds": 0}, {"model_calls": -1}, {"critic_rounds": 1.5}, {"tokens": 5}):
        with pytest.raises(ValidationError):
            Budget.model_validate(bad)
    with pytest.raises(ValidationError, match="budget.seconds"):
        Brief.model_validate({"goal": "g", "deliverables": [{"kind": "narration", "text": "hi"}],
                              "budget": {"seconds": -1}})
    assert StoryRequest(prompt="a fox", budget={"critic_rounds": 1}).budget.critic_rounds == 1


def test_past_its_model_calls_a_run_stops_fails_with_budget_and_keeps_what_it_made(runtime):
    run_id = _brief(runtime, IMAGE_THEN_CAPTION, {"model_calls": 0})
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "failed"
    assert summary["error"] == "budget: 1 model calls, past the limit of 0"
    steps = {st["key"]: st["status"] for st in summary["steps"]}
    assert steps["image-1"] == "succeeded" and steps.get("caption-2") != "succeeded"  # the caption never ran
    manifest = json.loads((Path(summary["output_dir"]) / "manifest.json").read_text())
    assert [a["kind"] for a in manifest["assets"] if a["kind"] == "image"] == ["image"]  # kept and delivered
    assert summary["cost"]["model_calls"] == 1


def test_past_its_seconds_a_run_stops_at_its_next_step(runtime):
    run_id = _brief(runtime, IMAGE_THEN_CAPTION, {"seconds": 0.001})
    summary = execute_run(runtime, run_id)
    assert (summary["status"], summary["error"]) == ("failed", "budget: the run took more than its 0.001 seconds")
    assert all(st["status"] != "succeeded" for st in summary["steps"])


def test_a_critic_round_past_the_limit_is_not_made(runtime, monkeypatch):
    def always_failing(executor, run_id, images, prompts, gate):
        return {a: Verdict(passed=False, value=0.0, reasons=["scripted"]) for a in images}

    monkeypatch.setattr(critic, "score_images", always_failing)
    runtime._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=1))
    runtime.settings.critic.max_rounds = 3
    request = StoryRequest(prompt="a fox in the snow", scenes=1, seed=2, budget={"critic_rounds": 1})
    summary = execute_run(runtime, create_story_run(runtime, request))
    assert (summary["status"], summary["error"]) == ("failed", "budget: critic round 2 is past the limit of 1")
    keys = {st["key"] for st in summary["steps"]}
    assert "image-1~r1" in keys and not any("~r2" in k for k in keys)


def test_every_summary_reports_its_cost_and_an_identical_run_costs_no_model_call(runtime):
    deliverables = [IMAGE_THEN_CAPTION[0], {"kind": "narration", "text": "The lamp turns all night long."}]
    first = execute_run(runtime, _brief(runtime, deliverables))
    assert first["status"] == "succeeded", first["error"]
    cost = first["cost"]
    assert (cost["model_calls"], cost["cache_hits"]) == (2, 0)  # the picture and the voice; no LLM text asked
    assert cost["seconds_by_role"].keys() == {"text_to_image", "tts"}
    assert all(0 < v <= cost["seconds"] for v in cost["seconds_by_role"].values())
    assert 0 < cost["critic_seconds"] <= cost["seconds"] and cost["critic_share"] == pytest.approx(
        cost["critic_seconds"] / cost["seconds"], abs=0.002)
    again = execute_run(runtime, _brief(runtime, deliverables))["cost"]
    assert (again["model_calls"], again["cache_hits"], again["seconds_by_role"]) == (0, 2, {})


def test_a_chat_turn_carries_its_budget_into_its_run(runtime):
    session = create_session(runtime)
    run_id = start_turn(runtime, session, "a story about a fox", budget=Budget(seconds=60, critic_rounds=0))
    with runtime.db.session() as s:
        assert repo.get_run(s, run_id).info["budget"] == {"seconds": 60, "critic_rounds": 0}
