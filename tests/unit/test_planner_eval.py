"""Planner evaluation metrics on hand-made predictions, and the shape of the labelled suite."""
from types import SimpleNamespace

import pytest

from agent.plan_schema import ALLOWED_TOOLS, Plan, PlanStep
from evals.planner import Case, evaluate, f1, format_table, load_suite, plan_edges

CASE = Case(id="fox", request="draw a fox, animate it, caption the clip and read the caption aloud",
            tools=("generate_image", "generate_video", "caption_video", "speak"), edges=((0, 1), (1, 2), (2, 3)))
IMG = PlanStep(id="i", tool="generate_image", args={"prompt": "a fox"})
VID = PlanStep(id="v", tool="generate_video", args={"prompt": "runs", "image": {"$ref": "i.image"}})
CAP = PlanStep(id="c", tool="caption_video", args={"video": {"$ref": "v.video"}})
SAY = PlanStep(id="s", tool="speak", args={"text": {"$value": "c.description"}})
BAD_ARGS = PlanStep(id="b", tool="speak", args={"text": ""})


def _result(plan, source="llm", repairs=0, drafts=None):
    return SimpleNamespace(plan=plan, source=source, repairs=repairs, drafts=[plan] if drafts is None else drafts)


def _run(*results):
    answers = iter(results)
    return evaluate(None, [CASE] * len(results), planner=lambda llm, request, **kw: next(answers))


def test_f1_of_multisets():
    assert f1([], []) == 1.0 and f1(["a"], []) == 0.0 and f1([], ["a"]) == 0.0
    assert f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)  # 2 hits: P = R = 2/3


def test_a_perfect_plan_scores_one():
    out = _run(_result(Plan(steps=[IMG, VID, CAP, SAY])))
    assert (out["node_f1"], out["edge_f1"], out["arg_validity"]) == (1.0, 1.0, 1.0)
    assert (out["repair_rate"], out["fallback_rate"], out["cases"]) == (0.0, 0.0, 1)


def test_a_partial_plan_scores_by_hand():
    # Tools image, video, speak (no caption; speak reads a fixed text): 3 hits of 3 predicted, 4 expected,
    # so node P = 1, R = 3/4, F1 = 6/7. Edges: only image->video of the 3 expected: P = 1, R = 1/3, F1 = 1/2.
    say = PlanStep(id="s", tool="speak", args={"text": "a fox runs"})
    partial = Plan(steps=[IMG, VID, say])
    assert plan_edges(partial) == [("generate_image", "generate_video")]
    out = _run(_result(partial, source="repair", repairs=1, drafts=[None, partial]))
    assert out["node_f1"] == pytest.approx(6 / 7) and out["edge_f1"] == pytest.approx(1 / 2)
    assert (out["repair_rate"], out["arg_validity"]) == (1.0, 1.0)


def test_an_empty_prediction_scores_zero_and_averages_with_others():
    out = _run(_result(None, source="fallback", drafts=[]), _result(Plan(steps=[IMG, VID, CAP, SAY])))
    assert (out["node_f1"], out["edge_f1"]) == (0.5, 0.5)
    assert (out["fallback_rate"], out["arg_validity"]) == (0.5, 1.0)
    none = _run(_result(None, source="fallback", drafts=[]))
    assert none["arg_validity"] is None and "n/a" in format_table(none)


def test_argument_validity_counts_every_draft():
    broken = Plan(steps=[IMG, BAD_ARGS])
    out = _run(_result(Plan(steps=[IMG]), source="repair", repairs=1, drafts=[broken, Plan(steps=[IMG])]))
    assert out["arg_validity"] == 0.5


def test_the_table_names_every_metric():
    table = format_table(_run(_result(Plan(steps=[IMG, VID, CAP, SAY]))))
    for label in ("node F1", "edge F1", "argument validity", "repair rate", "fallback rate", "mean latency"):
        assert label in table
    assert "fox" in table.splitlines()[-1]


def test_the_suite_has_thirty_well_formed_cases():
    cases = load_suite()
    assert len(cases) >= 30 and len({c.id for c in cases}) == len(cases)
    for case in cases:
        assert case.request.strip() and set(case.tools) <= ALLOWED_TOOLS["freeform"], case.id
        assert all(0 <= a < b < len(case.tools) for a, b in case.edges), case.id
    shapes = {(len(c.tools) == 1, bool(c.edges)) for c in cases}
    assert (True, False) in shapes and (False, True) in shapes  # single tools and chains
    assert any(len({a for a, _ in c.edges}) < len(c.edges) for c in cases)  # some fan out
    assert any(len({b for _, b in c.edges}) < len(c.edges) for c in cases)  # some fan in


def test_a_malformed_suite_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n  - {id: x, request: r, tools: [speak], edges: [[0, 1]]}\n")
    with pytest.raises(ValueError, match="case 'x'"):
        load_suite(bad)
