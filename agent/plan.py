"""The Plan: an ordered list of tool calls whose arguments may reference earlier steps' outputs.

`{"$ref": "image-1.image"}` in a step's args means "the asset id that step `image-1` produced in its
`image` output slot". A plan is checked against the tool registry before anything runs.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.base import ToolError, get_tool

MAX_STEPS = 32
_PLACEHOLDER_ID = "0" * 32


class PlanStep(BaseModel):
    """One tool call: `after` lists steps that must finish first (refs add to it implicitly)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$", description="Unique within the plan, e.g. image-1.")
    tool: str = Field(min_length=1, max_length=100)
    args: dict[str, Any] = Field(default_factory=dict)
    after: list[str] = Field(default_factory=list)
    intent: str = Field(default="", max_length=5000, description="What the result must show or say.")


class Plan(BaseModel):
    """What a run will do. `source` says who wrote it: a recipe, the LLM, or a fallback recipe."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["story", "brief", "narration", "freeform"] = "freeform"
    source: Literal["recipe", "llm", "repair", "fallback"] = "recipe"
    steps: list[PlanStep] = Field(min_length=1, max_length=MAX_STEPS)

    def step(self, step_id: str) -> PlanStep:
        return next(s for s in self.steps if s.id == step_id)


def iter_refs(value: Any) -> Iterator[str]:
    """Every `$ref` string inside a JSON-like value."""
    if isinstance(value, dict):
        if set(value) == {"$ref"} and isinstance(value["$ref"], str):
            yield value["$ref"]
            return
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_refs(item)


def dependencies(step: PlanStep) -> set[str]:
    """Steps that must finish before `step`: its `after` list plus the steps its refs point at."""
    return set(step.after) | {ref.split(".", 1)[0] for ref in iter_refs(step.args)}


def resolve_refs(value: Any, outputs: dict[str, dict[str, str]]) -> Any:
    """Replace each `$ref` with the asset id it names (KeyError if that output does not exist)."""
    if isinstance(value, dict):
        if set(value) == {"$ref"} and isinstance(value["$ref"], str):
            step_id, _, slot = value["$ref"].partition(".")
            return outputs[step_id][slot]
        return {k: resolve_refs(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, outputs) for v in value]
    return value


def validate_plan(plan: Plan, allowed_tools: set[str] | None = None) -> list[str]:
    """Problems that would stop the plan from running, one readable line each (empty = valid)."""
    errors: list[str] = []
    seen: dict[str, PlanStep] = {}
    for step in plan.steps:
        if step.id in seen:
            errors.append(f"step {step.id}: the id is used twice")
        errors += _check_step(step, seen, allowed_tools)
        seen[step.id] = step
    return errors


def _check_step(step: PlanStep, earlier: dict[str, PlanStep], allowed: set[str] | None) -> list[str]:
    if allowed is not None and step.tool not in allowed:
        return [f"step {step.id}: tool {step.tool!r} is not allowed for this run"]
    try:
        tool = get_tool(step.tool)
    except ToolError as exc:
        return [f"step {step.id}: {exc}"]
    errors = [f"step {step.id}: `after` names {d!r}, which is not an earlier step"
              for d in step.after if d not in earlier]
    for ref in iter_refs(step.args):
        errors += _check_ref(step.id, ref, earlier)
    try:
        tool.parse(resolve_refs(step.args, _PlaceholderOutputs()))
    except ToolError as exc:
        errors.append(f"step {step.id}: {exc}")
    return errors


def _check_ref(step_id: str, ref: str, earlier: dict[str, PlanStep]) -> list[str]:
    target, _, slot = ref.partition(".")
    if target not in earlier:
        return [f"step {step_id}: reference {ref!r} does not point at an earlier step"]
    outputs = get_tool(earlier[target].tool).outputs
    if slot not in outputs:
        return [f"step {step_id}: reference {ref!r}: tool {earlier[target].tool} has no output {slot!r} "
                f"(it has {', '.join(outputs) or 'none'})"]
    return []


class _PlaceholderOutputs(dict):
    """Every ref resolves to a well-formed dummy id, so argument types can be checked before running."""

    def __missing__(self, key: str) -> dict[str, str]:
        return _AnySlot()


class _AnySlot(dict):
    def __missing__(self, key: str) -> str:
        return _PLACEHOLDER_ID
