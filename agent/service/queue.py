"""Admission to the queue of runs (the queue itself is the runs table: agent/service/runner.py)."""
from __future__ import annotations


class InFlightLimit(Exception):
    """A key already has as many runs queued or running as it may."""

    def __init__(self, active: int, limit: int) -> None:
        super().__init__(f"this key already has {active} runs queued or running (limit {limit}); "
                         "wait for some to finish or cancel them")
