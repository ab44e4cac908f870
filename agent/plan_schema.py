"""The Plan: an ordered list of tool calls whose arguments may reference earlier steps' outputs.

Two kinds of reference may appear anywhere inside a step's args:

- `{"$ref": "image-1.image"}`: the asset id that step `image-1` produced in its `image` output slot.
  It may only stand where the tool's input schema expects an asset (`x-asset-kind`) of the same kind.
- `{"$value": "caption-1.description"}`: a text value an earlier step computed (a caption, a video
  description, a transcript), e.g. to read a caption aloud. It may only stand where text is expected.

A plan is checked against the tool registry before anything runs. Every reference and every `after`
must name an *earlier* step, so the order of the steps is a topological order and a valid plan cannot
contain a cycle: no separate cycle search is needed, and a "cycle" from an LLM shows up as a forward
reference or a forward `after`, reported with the step it names.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.base import ToolError
from tools.registry import all_tools, get_tool

MAX_STEPS = 32
_PLACEHOLDER_ID = "0" * 32
_PLACEHOLDER_TEXT = "text from an earlier step"
REF_KEYS = ("$ref", "$value")

# Which tools each kind of run may use. A plan is validated against its kind's set, so text that
# reaches the planner from media (captions, transcripts) cannot widen what a run may do. Scoring
# tools are left out: the critic runs them itself, they are not something a user asks for.
ALLOWED_TOOLS: dict[str, set[str]] = {
    "story": {"generate_image", "speak", "compose_story", "compose_video"},
    "brief": {"generate_image", "generate_video", "caption_image", "caption_video", "speak", "compose_video",
              "compose_story"},
    "narration": {"caption_image", "caption_video", "transcribe", "speak", "compose_video", "compose_story"},
    "freeform": {"generate_image", "generate_video", "caption_image", "caption_video", "speak", "transcribe",
                 "compose_story", "compose_video"},
}


def candidate_id(step_id: str, round_no: int) -> str:
    """The step id of revision round `round_no`'s candidate of `step_id`: `image-2~r1`."""
    return f"{step_id}~r{round_no}"


def original_step(step_id: str) -> str:
    """The plan step a candidate (or an asset role such as `image-2~r1.image`) belongs to: `image-2`."""
    return step_id.split(".", 1)[0].split("~", 1)[0]


class PlanStep(BaseModel):
    """One tool call: `after` lists steps that must finish first (refs add to it implicitly)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_~-]{0,47}$",
                    description="Unique within the plan, e.g. image-1 (`~r1` marks a revision candidate).")
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


def iter_ref_paths(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str, str]]:
    """`(argument path, "$ref" or "$value", "step.name")` for every reference inside a JSON-like value."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in REF_KEYS and isinstance(next(iter(value.values())), str):
            key, target = next(iter(value.items()))
            yield path, key, target
            return
        for name, item in value.items():
            yield from iter_ref_paths(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_ref_paths(item, (*path, index))


def iter_value_refs(value: Any) -> Iterator[str]:
    """Every `$value` string inside a JSON-like value."""
    return (ref for _, key, ref in iter_ref_paths(value) if key == "$value")


def dependencies(step: PlanStep) -> set[str]:
    """Steps that must finish before `step`: its `after` list plus the steps its references point at."""
    return set(step.after) | {ref.split(".", 1)[0] for _, _, ref in iter_ref_paths(step.args)}


def resolve_refs(value: Any, outputs: Mapping[str, Mapping[str, str]],
                 values: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    """Replace each `$ref` with the asset id it names and each `$value` with the value it names.

    `outputs` is step id -> output slot -> asset id; `values` is step id -> that step's values.
    KeyError when a named output or value does not exist (or `values` is needed and not given).
    """
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in REF_KEYS and isinstance(next(iter(value.values())), str):
            key, target = next(iter(value.items()))
            step_id, _, name = target.partition(".")
            if key == "$ref":
                return outputs[step_id][name]
            if values is None:
                raise KeyError(target)
            return values[step_id][name]
        return {k: resolve_refs(v, outputs, values) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, outputs, values) for v in value]
    return value


def placeholder_args(args: dict[str, Any]) -> Any:
    """`args` with every reference replaced by a well-formed dummy, so their types can be checked early."""
    return resolve_refs(args, _Placeholders(_PLACEHOLDER_ID), _Placeholders(_PLACEHOLDER_TEXT))


def asset_kind_at(schema: dict[str, Any], path: Sequence[str | int]) -> str | None:
    """The `x-asset-kind` of the argument at `path` (keys and list indexes) in a tool's input JSON schema,
    or None where that argument is not an asset. Follows properties, items, `$defs` and anyOf/oneOf/allOf."""
    return _kind_at(schema, list(path), schema.get("$defs", {}))


def _kind_at(node: Any, path: list[str | int], defs: dict[str, Any]) -> str | None:
    if not isinstance(node, dict):
        return None
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = {**defs.get(ref.rsplit("/", 1)[-1], {}), **{k: v for k, v in node.items() if k != "$ref"}}
    if not path and "x-asset-kind" in node:
        return node["x-asset-kind"]
    for branch in [*node.get("anyOf", []), *node.get("oneOf", []), *node.get("allOf", [])]:
        found = _kind_at(branch, path, defs)
        if found:
            return found
    if not path:
        return None
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        child = node.get("items")
    else:
        child = node.get("properties", {}).get(head, node.get("additionalProperties"))
    return _kind_at(child, rest, defs)


@lru_cache(maxsize=64)
def input_schema(tool_name: str) -> dict[str, Any]:
    """A registered tool's input JSON schema (cached: tools are fixed for the process; do not mutate it)."""
    return get_tool(tool_name).input_model.model_json_schema()


def validate_plan(plan: Plan, allowed_tools: set[str] | None = None) -> list[str]:
    """Problems that would stop the plan from running, one readable line each (empty = valid).

    `allowed_tools` is the run kind's set (see ALLOWED_TOOLS); None allows every registered tool.
    """
    errors: list[str] = []
    if len(plan.steps) > MAX_STEPS:
        errors.append(f"the plan has {len(plan.steps)} steps; the limit is {MAX_STEPS}")
    order = {s.id: i for i, s in reversed(list(enumerate(plan.steps)))}
    seen: dict[str, PlanStep] = {}
    for step in plan.steps:
        if step.id in seen:
            errors.append(f"step {step.id}: the id is used twice")
        errors += _check_step(step, seen, order, allowed_tools)
        seen[step.id] = step
    return errors


def _check_step(step: PlanStep, earlier: dict[str, PlanStep], order: dict[str, int],
                allowed: set[str] | None) -> list[str]:
    try:
        tool = get_tool(step.tool)
    except ToolError as exc:
        if allowed is None:
            return [f"step {step.id}: {exc}"]
        return [f"step {step.id}: unknown tool {step.tool!r}; use one of: {', '.join(sorted(allowed))}"]
    if allowed is not None and step.tool not in allowed:
        return [f"step {step.id}: tool {step.tool!r} is not allowed for this run"]
    errors = [_after_error(step, name, earlier, order) for name in step.after if name not in earlier]
    schema = input_schema(step.tool)
    for path, key, ref in iter_ref_paths(step.args):
        errors += _check_ref(step, key, ref, path, schema, earlier, order)
    try:
        tool.parse(placeholder_args(step.args))
    except ToolError as exc:
        errors.append(f"step {step.id}: {exc}")
    return errors


def _after_error(step: PlanStep, name: str, earlier: dict[str, PlanStep], order: dict[str, int]) -> str:
    if name == step.id:
        return f"step {step.id}: `after` names the step itself"
    if name in order:
        return f"step {step.id}: `after` names {name!r}, a later step; a step may only wait for earlier ones"
    return f"step {step.id}: `after` names {name!r}, which is not an earlier step"


def _check_ref(step: PlanStep, key: str, ref: str, path: tuple, schema: dict[str, Any],
               earlier: dict[str, PlanStep], order: dict[str, int]) -> list[str]:
    target, _, name = ref.partition(".")
    where = ".".join(str(p) for p in path) or "(arguments)"
    if target not in earlier:
        why = (" (it names the step itself)" if target == step.id
               else " (it names a later step; put the step it uses first)" if target in order else "")
        return [f"step {step.id}: reference {ref!r} does not point at an earlier step{why}"]
    source = earlier[target].tool
    if source not in all_tools():
        return []  # the earlier step's unknown tool is reported on that step; nothing to check against
    expected = asset_kind_at(schema, path)
    if key == "$value":
        texts = get_tool(source).values
        if name not in texts:
            return [f"step {step.id}: value {ref!r}: tool {source} has no text value {name!r} "
                    f"(it has {', '.join(sorted(texts)) or 'none'})"]
        if expected:
            return [f"step {step.id}: argument `{where}` needs {_a(expected)} asset, not the text {ref!r}"]
        return []
    outputs = get_tool(source).outputs
    if name not in outputs:
        texts = sorted(get_tool(source).values)
        hint = f'; its text is {{"$value": "{target}.{texts[0]}"}}' if texts else ""
        return [f"step {step.id}: reference {ref!r}: tool {source} has no output {name!r} "
                f"(it has {', '.join(outputs) or 'none'}){hint}"]
    if expected is None:
        return [f"step {step.id}: argument `{where}` takes no asset, so it cannot hold the reference {ref!r}"]
    if outputs[name] != expected:
        return [f"step {step.id}: argument `{where}` needs {_a(expected)}, but {ref!r} is {_a(outputs[name])}"]
    return []


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


class _Placeholders(dict):
    """Every step resolves to a mapping in which every name resolves to `dummy`."""

    def __init__(self, dummy: str):
        super().__init__()
        self.dummy = dummy

    def __missing__(self, key: str) -> dict[str, str]:
        return _AnyName(self.dummy)


class _AnyName(dict):
    def __init__(self, dummy: str):
        super().__init__()
        self.dummy = dummy

    def __missing__(self, key: str) -> str:
        return self.dummy
