"""Steps: one tool call of a run's plan, keyed within the run by the plan's step id."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memory.repo._rows import add, update
from memory.tables import Step


def create_step(s: Session, *, run_id: str, key: str, tool: str, args: dict[str, Any], intent: str = "") -> Step:
    # Revisions may append steps to a run later, so the position counts what is already there.
    count = s.scalar(select(func.count()).select_from(Step).where(Step.run_id == run_id)) or 0
    return add(s, Step(run_id=run_id, key=key, position=count, tool=tool, args=args, intent=intent))


def get_step(s: Session, run_id: str, key: str) -> Step | None:
    return s.scalar(select(Step).where(Step.run_id == run_id, Step.key == key))


def get_step_by_id(s: Session, step_id: str) -> Step | None:
    return s.get(Step, step_id)


def update_step(s: Session, step_id: str, **fields: Any) -> Step:
    """Set only the given columns; KeyError when the step does not exist."""
    return update(s, Step, step_id, fields)


def list_steps(s: Session, run_id: str) -> list[Step]:
    """In the order they were created."""
    return list(s.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.position)))
