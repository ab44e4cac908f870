"""The run graph: plan → (review) → execute (one wave of ready steps per pass) → critique ⇄ revise → deliver.

Executing one wave per pass gives a checkpoint after every wave, so a resumed run does not redo
finished steps. This module is wiring and pure routers; the nodes are in `agent.nodes`.
"""
from __future__ import annotations

from typing import Literal

from agent import nodes
from agent.state import RunState


def build_graph(checkpointer=None):
    """Compile the graph. Nodes find the runtime, the event hook and the cancel flag in
    `config["configurable"]` (see `agent.nodes`)."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(RunState)
    for name in ("plan", "review", "execute", "critique", "revise", "deliver"):
        graph.add_node(name, getattr(nodes, name))
    graph.add_edge(START, "plan")
    # A failed or declined plan goes straight to deliver, which records the failure.
    graph.add_conditional_edges("plan", route_after_plan)
    # A run asked with review pauses there (an interrupt) until its storyboard is approved.
    graph.add_conditional_edges("review", route_after_review)
    # Loop over waves until every step is done; any failure or cancel ends the run.
    graph.add_conditional_edges("execute", route_after_execute)
    # Failing candidates get another round while rounds are left; rebuilt winners re-run dependents.
    graph.add_conditional_edges("critique", route_after_critique)
    # A revision round is always judged again.
    graph.add_edge("revise", "critique")
    graph.add_edge("deliver", END)
    return graph.compile(checkpointer=checkpointer)


def route_after_plan(state: RunState) -> Literal["review", "execute", "deliver"]:
    if state.get("status") in ("failed", "declined"):
        return "deliver"
    return "review" if state.get("review") else "execute"


def route_after_review(state: RunState) -> Literal["execute", "deliver"]:
    return "deliver" if state.get("status") in ("failed", "cancelled") else "execute"


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
