"""The graph's state: ids and small JSON only, never media (base64 in state is how checkpoint
databases grow to hundreds of GB)."""
from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class RunState(TypedDict, total=False):
    run_id: str
    review: bool  # pause after planning until the storyboard is approved
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
