"""Budgets: a run's limits (seconds, model calls, critic rounds), watched while it executes.

The meter sits between the run and its callbacks: it reads the run's events as they pass (a finished
step, a critic round starting) and answers the run's "should I stop?" question, which every step and
every denoising step already asks for cancels. Past a limit the run stops there, like a cancel, and
its verdict becomes failed with an error starting "budget:"; what it made is kept and delivered.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from agent.requests import Budget
from agent.runtime import Runtime
from agent.service.cost import elapsed, run_cost
from memory import repo

_ROUND = re.compile(r"^round (\d+)")


def budget_info(budget: Budget | None) -> dict[str, Any]:
    """What a run's info keeps of its budget ({} without limits)."""
    limits = budget.limits() if budget is not None else {}
    return {"budget": limits} if limits else {}


class Meter:
    """One execution of a run against its limits (`info["budget"]`)."""

    def __init__(self, rt: Runtime, run_id: str, limits: dict[str, Any], emit: Callable[[dict], None],
                 cancelled: Callable[[], bool]) -> None:
        self.rt, self.run_id, self.limits = rt, run_id, limits
        self._emit, self._cancelled = emit, cancelled
        self.reason: str | None = None
        with rt.db.session() as s:  # a resumed run counts the time it ran before
            spent = elapsed(repo.get_run(s, run_id))
        self._deadline = time.monotonic() + limits["seconds"] - spent if "seconds" in limits else None

    def emit(self, event: dict[str, Any]) -> None:
        self._emit(event)
        if event.get("type") == "step" and event.get("status") in ("succeeded", "failed") and not event.get("cached"):
            self._count_calls()
        elif event.get("type") == "stage" and event.get("stage") == "revise":
            found = _ROUND.match(str(event.get("detail", "")))
            if found and int(found.group(1)) > self.limits.get("critic_rounds", float("inf")):
                self._stop(f"critic round {found.group(1)} is past the limit of {self.limits['critic_rounds']}")

    def cancelled(self) -> bool:
        return self.exceeded() is not None or self._cancelled()

    def exceeded(self) -> str | None:
        """Why the run is past its budget ("budget: ..."), or None."""
        if self._deadline is not None and self.reason is None and time.monotonic() > self._deadline:
            self._stop(f"the run took more than its {self.limits['seconds']:g} seconds")
        return self.reason

    def _count_calls(self) -> None:
        if "model_calls" not in self.limits:
            return
        with self.rt.db.session() as s:
            calls = run_cost(s, repo.get_run(s, self.run_id))["model_calls"]
        if calls > self.limits["model_calls"]:
            self._stop(f"{calls} model calls, past the limit of {self.limits['model_calls']}")

    def _stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = f"budget: {reason}"
