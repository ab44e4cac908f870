"""The run graph: plan → execute (one wave of ready steps per pass) → critique → deliver.

State carries ids and small JSON only, never media (base64 in state is how checkpoint databases grow
to hundreds of GB). Executing one wave per pass gives a checkpoint after every wave, so a resumed
run does not redo finished steps. Nodes are thin; the work lives in recipes, executor, critic and
deliver.
"""
from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from agent.critic import critique_run
from agent.deliver import deliver_run
from agent.plan import Plan
from agent.planning import plan_run
from agent.runtime import Runtime
from tools.base import ToolError


def _merge(left: dict, right: dict) -> dict:
    return {**left, **right}


class RunState(TypedDict, total=False):
    run_id: str
    plan: dict[str, Any]
    outputs: Annotated[dict[str, dict[str, str]], _merge]  # step id -> output slot -> asset id
    scores: dict[str, dict[str, float]]  # asset id -> metric -> value
    status: str  # running | succeeded | failed | cancelled
    error: str | None
    passes: Annotated[int, operator.add]  # execute passes so far; bounds the loop


def build_graph(rt: Runtime, executor_for, checkpointer=None):
    """Compile the graph; `executor_for(run_id)` gives the run's Executor (with its event hook)."""
    from langgraph.graph import END, START, StateGraph

    def plan(state: RunState) -> dict:
        try:
            return {"plan": plan_run(rt, state["run_id"], executor_for(state["run_id"]).emit).model_dump(),
                    "outputs": {}, "status": "running"}
        except ToolError as exc:
            return {"status": "failed", "error": f"planning failed: {exc}"}

    def execute(state: RunState) -> dict:
        executor = executor_for(state["run_id"])
        outcomes = executor.run_wave(Plan.model_validate(state["plan"]), state.get("outputs", {}))
        update: dict[str, Any] = {"outputs": {o.step_id: o.outputs for o in outcomes if o.status == "succeeded"},
                                  "passes": 1}
        failed = next((o for o in outcomes if o.status == "failed"), None)
        if failed:
            update.update(status="failed", error=f"step {failed.step_id} failed: {failed.error}")
        elif executor.cancelled():
            update.update(status="cancelled", error="cancelled")
        return update

    def critique(state: RunState) -> dict:
        try:
            return {"scores": critique_run(executor_for(state["run_id"]), state["run_id"]), "status": "succeeded"}
        except ToolError as exc:
            return {"status": "failed", "error": f"critique failed: {exc}"}

    def deliver(state: RunState) -> dict:
        status, error = state.get("status", "failed"), state.get("error")
        if status not in ("succeeded", "failed", "cancelled"):  # the no-progress guard fired
            status, error = "failed", error or "the plan could not make progress"
        deliver_run(rt, state["run_id"], status=status, error=error)
        return {}

    graph = StateGraph(RunState)
    graph.add_node("plan", plan)
    graph.add_node("execute", execute)
    graph.add_node("critique", critique)
    graph.add_node("deliver", deliver)
    graph.add_edge(START, "plan")
    # A failed plan goes straight to deliver, which records the failure.
    graph.add_conditional_edges("plan", route_after_plan)
    # Loop over waves until every step is done; any failure or cancel ends the run.
    graph.add_conditional_edges("execute", route_after_execute)
    graph.add_edge("critique", "deliver")
    graph.add_edge("deliver", END)
    return graph.compile(checkpointer=checkpointer)


def route_after_plan(state: RunState) -> Literal["execute", "deliver"]:
    return "deliver" if state.get("status") == "failed" else "execute"


def route_after_execute(state: RunState) -> Literal["execute", "critique", "deliver"]:
    if state.get("status") in ("failed", "cancelled"):
        return "deliver"
    steps = state["plan"]["steps"]
    if all(s["id"] in state.get("outputs", {}) for s in steps):
        return "critique"
    if state.get("passes", 0) > len(steps):  # no progress is possible: a bug, not a hang
        return "deliver"
    return "execute"
