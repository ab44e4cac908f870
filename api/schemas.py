"""Response bodies of the HTTP API (request bodies are the agent's own validated models)."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

# PostgreSQL cannot store NUL in text (a 500 there, found by the stateful fuzzing); SQLite can. Text
# fields refuse it on both, before anything is written: a turn's run and message are two writes.


def no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("text may not contain NUL (\\u0000) characters")
    return value


Text = Annotated[str, AfterValidator(no_nul)]


def nul_field(value: Any, where: str = "body") -> str | None:
    """The path of the first string inside `value` that contains a NUL character, or None."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return next((found for key, item in items if (found := nul_field(item, f"{where}.{key}"))), None)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_request, rate_limited.")
    message: str = Field(description="One line for people.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class StepOut(BaseModel):
    key: str
    tool: str
    status: str
    error: str | None = None
    duration_s: float | None = None
    rounds: int = 0
    passed: bool | None = Field(default=None, description="Whether the critic's chosen candidate passed its gate.")
    cached: bool = Field(default=False, description="Answered from the tool-call cache (an identical earlier call).")


class AssetBrief(BaseModel):
    id: str
    role: str | None = None
    kind: str
    mime: str
    duration: float | None = None
    intent: str = ""
    parent: str | None = None
    selected: bool | None = Field(default=None, description="The critic's winner among a step's candidates.")
    scores: dict[str, float] = Field(default_factory=dict)


# A run's webhook: checked (scheme, length, a public address or one allowed by setting) before the run is made.
WEBHOOK_URL_HELP = ("http(s) URL that gets the run's summary, signed (Standard Webhooks), when the run ends; "
                    "private, loopback and link-local addresses are refused unless STORYLOOM_WEBHOOKS__ALLOW "
                    "lists them.")
WebhookUrl = Annotated[str | None, Field(max_length=2048, description=WEBHOOK_URL_HELP)]


class WebhookOut(BaseModel):
    id: str | None = Field(default=None, description="The webhook-id header, the same on every attempt "
                           "(null until the run ends).")
    url: str
    status: str = Field(description="waiting (the run goes on) | pending | delivered | failed (given up)")
    attempts: int = 0
    last_status: int | None = Field(default=None, description="HTTP status of the last attempt.")
    last_error: str | None = None
    next_attempt_at: str | None = None
    delivered_at: str | None = None


class RunOut(BaseModel):
    id: str
    kind: str
    status: str = Field(description="queued | running | awaiting_review | succeeded | failed | cancelled | declined")
    profile: str
    title: str | None = None
    request: str
    error: str | None = None
    session_id: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    plan: dict[str, Any] | None = None
    capability: dict[str, Any] | None = Field(
        default=None, description="The capability check: supported (true, false or \"partial\"), missing "
                                  "(plain capability names), reason (the honest sentence), files named and absent.")
    steps: list[StepOut] = Field(default_factory=list)
    assets: list[AssetBrief] = Field(default_factory=list)
    steps_reused: int | None = Field(default=None, description="Steps the tool-call cache answered (a redo's "
                                     "unchanged scenes).")
    cost: dict[str, Any] | None = Field(default=None, description=(
        "seconds, seconds_by_role (model role -> seconds), model_calls, cache_hits, critic_seconds, critic_share"))
    webhook: WebhookOut | None = Field(default=None, description="The run's webhook delivery, when it asked for one.")


class RunList(BaseModel):
    runs: list[RunOut]


class MessageOut(BaseModel):
    role: str
    content: str
    run_id: str | None = None
    created_at: str | None = None


class SessionOut(BaseModel):
    id: str
    title: str | None = None
    created_at: str | None = None
    pins: dict[str, Any] = Field(default_factory=dict, description="The pinned style and seed (PUT .../pins).")
    messages: list[MessageOut] = Field(default_factory=list)


class SessionList(BaseModel):
    sessions: list[SessionOut]


class ScoreOut(BaseModel):
    metric: str
    value: float
    model_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Lineage(BaseModel):
    run_id: str | None = None
    step: str | None = Field(default=None, description="The plan step that made it.")
    tool: str | None = None
    model_id: str | None = None
    model_revision: str | None = None
    seed: int | None = None
    parents: list[str] = Field(default_factory=list, description="Revision chain: parent, grandparent, ...")
    inputs: list[str] = Field(default_factory=list, description="Assets the call read (by id).")
    cached_from: str | None = Field(default=None, description="The asset whose stored result was reused.")


class AssetOut(BaseModel):
    id: str
    kind: str
    mime: str
    size: int
    sha256: str
    role: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    intent: str = ""
    created_at: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    lineage: Lineage
    scores: list[ScoreOut] = Field(default_factory=list)


class Health(BaseModel):
    status: str
    profile: str
    database: str
    workers: int
    queue_depth: int
