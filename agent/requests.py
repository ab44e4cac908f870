"""What a caller may ask for: story and free-form requests, validated before anything is created,
so bad input leaves nothing behind."""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tools.base import RequestSeed

MAX_PROMPT_CHARS = 2000
MAX_REQUEST_CHARS = 8000


_TAG = re.compile(r"<[^<>]{0,200}>")


def only_markup(text: str) -> bool:
    """Whether the text has no letter or digit outside markup tags ("<b></b> {{}}", "### ---")."""
    return not any(ch.isalnum() for ch in _TAG.sub(" ", text))


def _not_blank(what: str) -> AfterValidator:
    """Strip the text; refuse it, naming `what`, when nothing is left."""
    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(f"the {what} is empty")
        if only_markup(value):
            raise ValueError(f"the {what} has no words, only markup or symbols")
        return value.strip()

    return AfterValidator(check)


class Budget(BaseModel):
    """Limits of one run. Past any of them (more seconds since it started, more model calls, a critic
    round beyond the limit) the run stops at its next step and ends failed, its error starting
    "budget:"; what it made is kept and delivered."""

    model_config = ConfigDict(extra="forbid")
    seconds: float | None = Field(default=None, gt=0, le=7 * 24 * 3600, description="Wall-clock seconds.")
    model_calls: int | None = Field(default=None, ge=0, le=100_000,
                                    description="Model calls (tool calls that ran a model, LLM answers).")
    critic_rounds: int | None = Field(default=None, ge=0, le=100, description="Revision rounds of the critic.")

    def limits(self) -> dict[str, float]:
        """The limits set, as plain JSON (kept in the run's info)."""
        return self.model_dump(exclude_none=True)


class StoryRequest(BaseModel):
    """A story job (`storyloom story`, a chat turn that asks for a story)."""

    prompt: Annotated[str, Field(max_length=MAX_PROMPT_CHARS), _not_blank("prompt")]
    scenes: int = Field(default=3, ge=1, le=24)
    seed: RequestSeed = 0
    budget: Budget | None = None
    review: bool = False  # pause after planning until the storyboard is approved
    save_cast: bool | Annotated[list[Annotated[str, Field(max_length=80)]], Field(max_length=6)] = Field(
        default=False, description="Keep the story's characters (all, or those "
                                        "named) in your cast bank for later stories.")


class FreeformRequest(BaseModel):
    """A free-form request for the planner (`storyloom run`)."""

    request: Annotated[str, Field(max_length=MAX_REQUEST_CHARS), _not_blank("request")]
    seed: RequestSeed = 0
    budget: Budget | None = None
    review: bool = False  # a story (or story edit) pauses after planning until its storyboard is approved
