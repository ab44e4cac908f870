"""The graph's nodes: plan, review (a pause for the reviewer), execute (one wave of ready steps),
critique, revise, deliver.

Each is a module-level function of `(state, config)` returning a partial state, as in LangGraph's
templates. What a node needs from the process comes in `config["configurable"]`: the `runtime`, the
run's `emit` (progress events) and `cancelled` (the cancel flag); nothing is captured in a closure,
so the nodes can be read, and tested, one by one. The work itself lives in the planning package,
the executor, the critic, revision and delivery.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent import critic
from agent import review as reviewing
from agent import revise as revision
from agent.deliver import deliver_run
from agent.executor import Executor
from agent.plan_schema import Plan
from agent.planning.dispatch import Declined, plan_run
from agent.recipes.review import BoardError
from agent.runtime import Runtime
from agent.state import RunState
from tools.base import ToolError

if TYPE_CHECKING:  # langchain_core is slow to import; the annotation alone needs no import at run time
    from langchain_core.runnables import RunnableConfig


def runtime_of(config: RunnableConfig) -> Runtime:
    return config["configurable"]["runtime"]


def executor_of(state: RunState, config: RunnableConfig) -> Executor:
    """The run's executor, reporting to the run's event hook and honouring its cancel flag."""
    conf = config["configurable"]
    return runtime_of(config).executor_for(state["run_id"], emit=conf.get("emit"), cancelled=conf.get("cancelled"))


def plan(state: RunState, config: RunnableConfig) -> dict[str, Any]:
    rt = runtime_of(config)
    try:
        made = plan_run(rt, state["run_id"], executor_of(state, config).emit)
    except Declined as exc:  # nothing Storyloom can do: said plainly, no model time spent
        return {"status": "declined", "error": str(exc)}
    except ToolError as exc:
        return {"status": "failed", "error": f"planning failed: {exc}"}
    return {"plan": made.model_dump(), "outputs": {}, "status": "running", "round": 0,
            "max_rounds": rt.settings.critic.max_rounds}


def review(state: RunState, config: RunnableConfig) -> dict[str, Any]:
    """Pause for the reviewer (a LangGraph interrupt carrying the storyboard); on approve, continue with
    the plan recompiled from the approved board. A run without a storyboard passes straight on."""
    if executor_of(state, config).cancelled():
        return {"status": "cancelled", "error": "cancelled"}
    from langgraph.types import interrupt

    rt = runtime_of(config)
    board = reviewing.shown(rt, state["run_id"])
    if board is None:
        return {}
    approved = interrupt({"storyboard": board})  # the first pass stops here; a resume returns the board
    try:
        made = reviewing.apply(rt, state["run_id"], approved)
    except (ToolError, BoardError) as exc:
        return {"status": "failed", "error": f"the approved storyboard cannot be used: {exc}"}
    return {"plan": made.model_dump(), "outputs": {}}


def execute(state: RunState, config: RunnableConfig) -> dict[str, Any]:
    executor = executor_of(state, config)
    outcomes = executor.run_wave(Plan.model_validate(state["plan"]), state.get("outputs", {}))
    done = {o.step_id: o.outputs for o in outcomes if o.status == "succeeded"}
    update: dict[str, Any] = {"outputs": {**state.get("outputs", {}), **done}, "passes": 1}
    failed = next((o for o in outcomes if o.status == "failed"), None)
    if executor.cancelled():  # a diffusion call stopped by the cancel fails its step: that is the cancel
        update.update(status="cancelled", error="cancelled")
    elif failed:
        update.update(status="failed", error=f"step {failed.step_id} failed: {failed.error}")
    return update


def critique(state: RunState, config: RunnableConfig) -> dict[str, Any]:
    executor = executor_of(state, config)
    if executor.cancelled():  # also reached after each revision round: a cancel stops the loop
        return {"status": "cancelled", "error": "cancelled"}
    gate = getattr(runtime_of(config).settings.critic.gates, runtime_of(config).profile)
    try:
        result = critic.critique(executor, state["run_id"], state, gate)
    except ToolError as exc:
        return {"status": "failed", "error": f"critique failed: {exc}"}
    rebuilt = critic.rebuild_dependents(executor, state, result["winners"])
    # A judged step that is itself rebuilt starts over: its old candidates used stale inputs.
    fresh = {k: v for k, v in result["candidates"].items() if k in rebuilt["outputs"]}
    failing = [step for step in result["failing"] if step in rebuilt["outputs"]]
    return {**result, **rebuilt, "candidates": fresh, "failing": failing, "status": "succeeded"}


def revise(state: RunState, config: RunnableConfig) -> dict[str, Any]:
    llm = runtime_of(config).llm_for(state["run_id"])
    return revision.revise(executor_of(state, config), state["run_id"], state, llm)


def deliver(state: RunState, config: RunnableConfig) -> dict[str, Any]:
    status, error = state.get("status", "failed"), state.get("error")
    if status not in ("succeeded", "failed", "cancelled", "declined"):  # the no-progress guard fired
        status, error = "failed", error or "the plan could not make progress"
    if status == "succeeded":  # the winners are final: score them against their siblings too
        try:
            critic.final_scores(executor_of(state, config), state["run_id"], state)
        except ToolError as exc:
            status, error = "failed", f"final scoring failed: {exc}"
    selected = {a for slots in state.get("outputs", {}).values() for a in slots.values()}
    deliver_run(runtime_of(config), state["run_id"], status=status, error=error, selected=selected)
    return {}
