"""The free-form LLM planner: a request becomes a validated Plan, or the name of the recipe that fits it.

1. The request is checked: not empty, at most 8,000 characters (ValueError with a one-line message).
2. Its intent is decided: story, brief, narration or freeform, by keywords where they are clear
   (`agent.planning.intent`). The LLM decides the unclear rest with a one-field JSON answer; when it
   is absent or fails, the keywords decide anyway. Asking only when the keywords are unsure is the tie-break rule:
   the embedded 135M model guesses worse than explicit words, and a call it need not make is saved.
   A story is made only for a request whose words ask for one: the LLM's "story" for an unclear request
   is not taken. (Before any of this the caller runs the capability check, `agent.planning.capabilities`.)
3. Story, brief and narration requests return `plan=None` and `source="recipe"`: the caller runs that
   recipe (where the LLM writes the content). Free-form requests are planned by the LLM: the prompt
   lists the allowed tools with their input schemas, the session's recent messages and entities, and
   any text from media quoted as data; the answer is schema-constrained JSON, validated with
   `validate_plan`. Errors go back to the LLM at most `max_repairs` times; after that, or at once when
   the LLM cannot be reached, the deterministic free-form recipe writes the plan and the result says why.
   The embedded 135M model is never asked for a graph (`graphs=False`): the recipe wires the tools at
   once, in milliseconds, instead of minutes of CPU for a graph that needs repairs.

An unreachable, refusing or silent server is asked only once per request: its first failure is the
fallback reason, so a request never waits more than one LLM timeout for a dead server.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.llm import LLM, LLMError, LLMUnavailable, explain_unavailable
from agent.plan_schema import ALLOWED_TOOLS, Plan, validate_plan
from agent.planning.intent import INTENTS, check_request, keyword_intent
from agent.planning.prompts import intent_messages, intent_schema, plan_messages, plan_schema, repair_messages
from agent.recipes.freeform import EXAMPLE_REQUEST, freeform_plan
from agent.text_checks import debris
from tools.base import one_line


@dataclass
class PlanResult:
    """A planned request. `plan` is None when `intent` is a recipe's (story, brief, narration): the
    caller runs that recipe. `source` says who wrote the plan; `fallback_reason` why the LLM did not."""

    plan: Plan | None
    intent: str
    source: str  # llm | repair | fallback | recipe
    repairs: int = 0
    fallback_reason: str | None = None
    errors: list[str] = field(default_factory=list)  # every validation error the LLM's answers had
    llm_calls: int = 0
    intent_source: str = "keywords"  # given | llm | keywords
    drafts: list[Plan | None] = field(default_factory=list)  # each LLM answer as a plan (None: unparsable)

    def summary(self) -> str:
        """One line for people: where the plan came from and why."""
        if self.plan is None:
            return f"{self.intent} request: run the {self.intent} recipe (intent by {self.intent_source})"
        origin = {"llm": "written by the LLM", "repair": f"written by the LLM after {self.repairs} repair(s)",
                  "fallback": "written by the free-form recipe", "recipe": "written by a recipe"}[self.source]
        why = f" because {self.fallback_reason}" if self.fallback_reason else ""
        return f"{len(self.plan.steps)}-step free-form plan {origin}{why}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for `storyloom plan --json` and the run record."""
        return {"intent": self.intent, "intent_source": self.intent_source, "source": self.source,
                "repairs": self.repairs, "fallback_reason": self.fallback_reason, "errors": self.errors,
                "llm_calls": self.llm_calls, "plan": self.plan.model_dump() if self.plan else None}


class _Asker:
    """Counts LLM calls and stops asking once the LLM is unavailable (see the module docstring)."""

    def __init__(self, llm: LLM | None):
        self.llm, self.calls = llm, 0
        self.down: str | None = None if llm is not None else "no LLM is configured"

    def ask(self, messages: list[dict[str, str]], schema: dict[str, Any], *, seed: int, max_tokens: int) -> Any:
        if self.llm is None or self.down:
            raise LLMUnavailable(self.down or "no LLM is configured")
        self.calls += 1
        try:
            return self.llm.json(messages, schema, seed=seed, max_tokens=max_tokens)
        except LLMUnavailable as exc:
            self.down = explain_unavailable(str(exc))
            raise


def plan_request(llm: LLM | None, request: str, *, kind: str | None = None, history: Sequence[str] = (),
                 entities: Sequence[str] = (), media_text: Sequence[str] = (), seed: int = 0,
                 max_repairs: int = 2, max_tokens: int = 1024, graphs: bool = True) -> PlanResult:
    """Plan `request` (see the module docstring). `kind` skips intent detection when the caller knows it.
    With `graphs` false (the embedded 135M model, which cannot write tool graphs) the free-form recipe
    wires the tools from the request's words and no LLM is asked for a graph."""
    request = check_request(request)
    if kind is not None and kind not in INTENTS:
        raise ValueError(f"unknown run kind {kind!r}; expected one of {', '.join(INTENTS)}")
    max_repairs = max(0, max_repairs)
    asker = _Asker(llm)
    intent, intent_source = (kind, "given") if kind else decide_intent(asker, request, seed=seed)
    if intent != "freeform":
        return PlanResult(plan=None, intent=intent, source="recipe", llm_calls=asker.calls,
                          intent_source=intent_source)
    if not graphs:
        return PlanResult(plan=freeform_plan(request, seed=seed, source="recipe"), intent="freeform",
                          source="recipe", llm_calls=asker.calls, intent_source=intent_source)
    result = PlanResult(plan=None, intent="freeform", source="llm", intent_source=intent_source)
    _ask_for_plan(asker, result, request, (history, entities, media_text), seed, max_repairs, max_tokens)
    result.llm_calls = asker.calls
    return result


def decide_intent(asker: _Asker, request: str, *, seed: int = 0) -> tuple[str, str]:
    """(intent, "keywords" or "llm"): keywords when decisive or when the LLM cannot say."""
    guess, decisive = keyword_intent(request)
    if decisive:
        return guess, "keywords"
    try:
        answer = asker.ask(intent_messages(request), intent_schema(), seed=seed, max_tokens=16)
    except LLMError:
        return guess, "keywords"
    said = answer.get("intent") if isinstance(answer, dict) else None
    if said == "story":  # a story is made only for a request that asks for one, in words
        return guess, "keywords"
    return (said, "llm") if said in INTENTS else (guess, "keywords")


def _ask_for_plan(asker: _Asker, result: PlanResult, request: str, context: tuple, seed: int,
                  max_repairs: int, max_tokens: int) -> None:
    """Ask, validate, send the errors back (bounded); fill `result` with the plan or the fallback."""
    tools = sorted(ALLOWED_TOOLS["freeform"])
    history, entities, media_text = context
    example = freeform_plan(EXAMPLE_REQUEST, seed=1, source="recipe")
    base = plan_messages(request, tools, example=example, example_request=EXAMPLE_REQUEST, history=history,
                         entities=entities, media_text=media_text)
    schema, messages = plan_schema(tools), base
    for attempt in range(max_repairs + 1):
        try:
            answer: Any = asker.ask(messages, schema, seed=seed + attempt, max_tokens=max_tokens)
        except LLMUnavailable:
            break
        except LLMError as exc:
            answer, plan = "(not valid JSON)", None
            problems = [f"the answer was not a complete JSON plan: {one_line(exc)}"]
        else:
            plan, problems = parse_plan(answer, tools)
        result.drafts.append(plan)
        if plan is not None and not problems:
            plan.source = "llm" if attempt == 0 else "repair"
            result.plan, result.source, result.repairs = plan, plan.source, attempt
            return
        result.errors += problems
        result.repairs = attempt
        if attempt < max_repairs:
            messages = repair_messages(base, answer, problems, tools)
    result.fallback_reason = asker.down or (
        f"the LLM's plan was still invalid after {max_repairs} repair(s): {result.errors[-1]}")
    result.plan, result.source = freeform_plan(request, seed=seed, source="fallback"), "fallback"


def parse_plan(answer: Any, tools: Sequence[str]) -> tuple[Plan | None, list[str]]:
    """The LLM's answer as a Plan (None when it does not even have the shape of one) and its problems."""
    if not isinstance(answer, dict) or not isinstance(answer.get("steps"), list):
        return None, ['the answer must be a JSON object {"steps": [...]}']
    try:
        plan = Plan(kind="freeform", source="llm", steps=answer["steps"])
    except ValidationError as exc:
        return None, [f"plan `{'.'.join(str(p) for p in e['loc'])}`: {e['msg']}" for e in exc.errors()[:12]]
    return plan, validate_plan(plan, set(tools)) + text_problems(plan)


def text_problems(plan: Plan) -> list[str]:
    """Template or JSON debris in the texts the plan would draw or speak (each goes back to the LLM)."""
    return [f"step {step.id}: argument `{key}` has template debris ({', '.join(found)}); write plain words"
            for step in plan.steps for key, value in step.args.items()
            if key in ("prompt", "text") and isinstance(value, str) and (found := debris(value))]
