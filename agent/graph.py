"""The run graph: plan → execute (one wave of ready steps per pass) → critique ⇄ revise → deliver.

State carries ids and small JSON only, never media (base64 in state is how checkpoint databases grow
to hundreds of GB). Executing one wave per pass gives a checkpoint after every wave, so a resumed
run does not redo finished steps. Nodes are thin; the work lives in recipes, executor, critic and
deliver.
"""
from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from agent import critic
from agent import revise as revision
from agent.deliver import deliver_run
from agent.plan import Plan
from agent.planning import plan_run, run_llm
from agent.runtime import Runtime
from memory import repo
from tools.base import ToolError


class RunState(TypedDict, total=False):
    run_id: str
    plan: dict[str, Any]
    outputs: dict[str, dict[str, str]]  # step id -> output slot -> asset id (the current winners)
    status: str  # running | succeeded | failed | cancelled
    error: str | None
    passes: Annotated[int, operator.add]  # execute passes so far; bounds the loop
    max_rounds: int
    round: int  # revision rounds done
    candidates: dict[str, list[str]]  # revisable step id -> its candidates' asset ids, original first
    verdicts: dict[str, dict[str, Any]]  # asset id -> {passed, value, reasons}
    winners: dict[str, str]  # revisable step id -> best candidate's asset id
    failing: list[str]  # revisable steps whose best candidate still fails its gate


def build_graph(rt: Runtime, executor_for, checkpointer=None):
    """Compile the graph; `executor_for(run_id)` gives the run's Executor (with its event hook)."""
    from langgraph.graph import END, START, StateGraph

    gate = getattr(rt.settings.critic.gates, rt.profile)

    def plan(state: RunState) -> dict:
        try:
            made = plan_run(rt, state["run_id"], executor_for(state["run_id"]).emit)
        except ToolError as exc:
            return {"status": "failed", "error": f"planning failed: {exc}"}
        return {"plan": made.model_dump(), "outputs": {}, "status": "running", "round": 0,
                "max_rounds": rt.settings.critic.max_rounds}

    def execute(state: RunState) -> dict:
        executor = executor_for(state["run_id"])
        outcomes = executor.run_wave(Plan.model_validate(state["plan"]), state.get("outputs", {}))
        done = {o.step_id: o.outputs for o in outcomes if o.status == "succeeded"}
        update: dict[str, Any] = {"outputs": {**state.get("outputs", {}), **done}, "passes": 1}
        failed = next((o for o in outcomes if o.status == "failed"), None)
        if executor.cancelled():  # a diffusion call stopped by the cancel fails its step: that is the cancel
            update.update(status="cancelled", error="cancelled")
        elif failed:
            update.update(status="failed", error=f"step {failed.step_id} failed: {failed.error}")
        return update

    def critique(state: RunState) -> dict:
        executor = executor_for(state["run_id"])
        if executor.cancelled():  # also reached after each revision round: a cancel stops the loop
            return {"status": "cancelled", "error": "cancelled"}
        try:
            result = critic.critique(executor, state["run_id"], state, gate)
        except ToolError as exc:
            return {"status": "failed", "error": f"critique failed: {exc}"}
        rebuilt = _rebuild_dependents(rt, state, result["winners"])
        # A judged step that is itself rebuilt starts over: its old candidates used stale inputs.
        fresh = {k: v for k, v in result["candidates"].items() if k in rebuilt["outputs"]}
        failing = [step for step in result["failing"] if step in rebuilt["outputs"]]
        return {**result, **rebuilt, "candidates": fresh, "failing": failing, "status": "succeeded"}

    def revise(state: RunState) -> dict:
        executor = executor_for(state["run_id"])
        return revision.revise(executor, state["run_id"], state, run_llm(rt, state["run_id"]))

    def deliver(state: RunState) -> dict:
        status, error = state.get("status", "failed"), state.get("error")
        if status not in ("succeeded", "failed", "cancelled"):  # the no-progress guard fired
            status, error = "failed", error or "the plan could not make progress"
        if status == "succeeded":  # the winners are final: score them against their siblings too
            try:
                critic.final_scores(executor_for(state["run_id"]), state["run_id"], state)
            except ToolError as exc:
                status, error = "failed", f"final scoring failed: {exc}"
        selected = {a for slots in state.get("outputs", {}).values() for a in slots.values()}
        deliver_run(rt, state["run_id"], status=status, error=error, selected=selected)
        return {}

    graph = StateGraph(RunState)
    for name, node in (("plan", plan), ("execute", execute), ("critique", critique), ("revise", revise),
                       ("deliver", deliver)):
        graph.add_node(name, node)
    graph.add_edge(START, "plan")
    # A failed plan goes straight to deliver, which records the failure.
    graph.add_conditional_edges("plan", route_after_plan)
    # Loop over waves until every step is done; any failure or cancel ends the run.
    graph.add_conditional_edges("execute", route_after_execute)
    # Failing candidates get another round while rounds are left; rebuilt winners re-run dependents.
    graph.add_conditional_edges("critique", route_after_critique)
    # A revision round is always judged again.
    graph.add_edge("revise", "critique")
    graph.add_edge("deliver", END)
    return graph.compile(checkpointer=checkpointer)


def _rebuild_dependents(rt: Runtime, state: RunState, winners: dict[str, str]) -> dict:
    """Point outputs at the winners; steps that used a replaced asset are reset to run again."""
    outputs = {k: dict(v) for k, v in state["outputs"].items()}
    slot = {s["id"]: critic.REVISABLE.get(s["tool"]) for s in state["plan"]["steps"]}
    changed = {step for step, asset in winners.items() if outputs.get(step, {}).get(slot[step]) != asset}
    for step in changed:
        outputs[step] = {slot[step]: winners[step]}
    stale = critic.stale_steps(state["plan"]["steps"], changed)
    with rt.db.session() as s:
        for key in stale:
            outputs.pop(key, None)
            row = repo.get_step(s, state["run_id"], key)
            if row is not None:
                repo.update_step(s, row.id, status="pending")
    return {"outputs": outputs}


def route_after_plan(state: RunState) -> Literal["execute", "deliver"]:
    return "deliver" if state.get("status") == "failed" else "execute"


def route_after_execute(state: RunState) -> Literal["execute", "critique", "deliver"]:
    if state.get("status") in ("failed", "cancelled"):
        return "deliver"
    steps = state["plan"]["steps"]
    if all(s["id"] in state.get("outputs", {}) for s in steps):
        return "critique"
    if state.get("passes", 0) > 2 * len(steps):  # no progress is possible: a bug, not a hang
        return "deliver"
    return "execute"


def route_after_critique(state: RunState) -> Literal["revise", "execute", "deliver"]:
    if state.get("status") in ("failed", "cancelled"):
        return "deliver"
    if state.get("failing") and state.get("round", 0) < state.get("max_rounds", 0):
        return "revise"
    if any(s["id"] not in state.get("outputs", {}) for s in state["plan"]["steps"]):
        return "execute"  # winners changed: rebuild what used the old ones
    return "deliver"
