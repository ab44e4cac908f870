"""Runs: one request carried from plan to delivery."""
from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from memory.repo._rows import add, get_owned, update
from memory.tables import TERMINAL_STATUSES, UNFINISHED_STATUSES, Event, Run


def create_run(s: Session, *, kind: str, request: str, profile: str, seed: int | None = None,
               session_id: str | None = None, api_key_id: str | None = None, output_dir: str | None = None,
               status: str = "queued") -> Run:
    return add(s, Run(kind=kind, request=request, profile=profile, seed=seed, session_id=session_id,
                      api_key_id=api_key_id, output_dir=output_dir, status=status))


def get_run(s: Session, run_id: str, *, owner: str | None = None) -> Run | None:
    """The run; with `owner`, None unless that API key made it."""
    return get_owned(s, Run, run_id, owner)


def get_run_for_update(s: Session, run_id: str, *, owner: str | None = None) -> Run | None:
    """Like `get_run`, with the row locked until the transaction ends (PostgreSQL; SQLite writes one at a
    time anyway): a read-modify-write of the run's info loses no concurrent change."""
    run = get_owned(s, Run, run_id, owner)
    if run is not None:
        s.refresh(run, with_for_update=True)
    return run


def list_runs(s: Session, *, owner: str | None = None, status: str | None = None, limit: int = 50) -> list[Run]:
    """Newest first; only `owner`'s runs and only runs in `status` when given."""
    query = select(Run).order_by(Run.created_at.desc(), Run.id).limit(limit)
    if owner is not None:
        query = query.where(Run.api_key_id == owner)
    if status is not None:
        query = query.where(Run.status == status)
    return list(s.scalars(query))


# What a run's header (a line of a run list) shows: only these columns are read, not the plan and info JSON.
HEADER_COLUMNS = ("id", "kind", "status", "profile", "title", "request", "error", "session_id", "created_at",
                  "started_at", "finished_at")


def list_run_headers(s: Session, *, owner: str | None = None, status: str | None = None, limit: int = 50) -> list:
    """Like `list_runs`, as rows of HEADER_COLUMNS (attribute access like a Run)."""
    query = select(*(getattr(Run, c) for c in HEADER_COLUMNS)).order_by(Run.created_at.desc(), Run.id).limit(limit)
    if owner is not None:
        query = query.where(Run.api_key_id == owner)
    if status is not None:
        query = query.where(Run.status == status)
    return list(s.execute(query))


def update_run(s: Session, run_id: str, **fields: Any) -> Run:
    """Set only the given columns; KeyError when the run does not exist."""
    return update(s, Run, run_id, fields)


def list_session_runs(s: Session, session_id: str) -> list[Run]:
    """The runs started from a session, oldest first."""
    query = select(Run).where(Run.session_id == session_id).order_by(Run.created_at, Run.id)
    return list(s.scalars(query))


def count_in_flight(s: Session, owner: str) -> int:
    """Queued plus running runs of one API key."""
    query = select(func.count()).select_from(Run).where(Run.api_key_id == owner,
                                                          Run.status.in_(UNFINISHED_STATUSES))
    return int(s.scalar(query) or 0)


def list_unfinished(s: Session) -> list[Run]:
    """Queued or running runs made through the API (they have a key), oldest first: a restarted
    server resumes them."""
    query = (select(Run).where(Run.status.in_(UNFINISHED_STATUSES), Run.api_key_id.is_not(None))
             .order_by(Run.created_at))
    return list(s.scalars(query))


def list_not_ended(s: Session, *, kind: str) -> list[Run]:
    """Runs of one kind that have not reached a terminal status (queued, running, paused)."""
    return list(s.scalars(select(Run).where(Run.kind == kind, Run.status.not_in(TERMINAL_STATUSES))))


def count_by_status(s: Session) -> dict[str, int]:
    """How many runs are in each status (statuses with none are absent)."""
    return {status: count for status, count in s.execute(select(Run.status, func.count()).group_by(Run.status))}


def find_by_idempotency_key(s: Session, *, owner: str, key: str) -> Run | None:
    """The run `owner` created with this Idempotency-Key, if any."""
    return s.scalar(select(Run).where(Run.api_key_id == owner, Run.idempotency_key == key))


def set_verdict(s: Session, run_id: str, *, status: str, error: str | None) -> Run:
    """Record how the run's work ended in its info (`verdict`); its status changes only together with
    its terminal event (agent.service.events.finish), so a run never shows finished without one."""
    run = s.get(Run, run_id, with_for_update=True, populate_existing=True)  # a cancel may write info too
    if run is None:
        raise KeyError(run_id)
    return update(s, Run, run_id, {"info": {**(run.info or {}), "verdict": {"status": status, "error": error}}})


def list_ended_without_event(s: Session) -> list[Run]:
    """API runs in a final status without their terminal event (stored before statuses and terminal
    events were written together): a restarted server stores the event."""
    missing = ~exists().where(Event.run_id == Run.id, Event.type.in_(TERMINAL_STATUSES))
    query = (select(Run).where(Run.status.in_(TERMINAL_STATUSES), Run.api_key_id.is_not(None), missing)
             .order_by(Run.created_at))
    return list(s.scalars(query))


def set_status_if(s: Session, run_id: str, *, expected: str, **fields: Any) -> bool:
    """Set `fields` (status, info...) only while the run is in status `expected`, in one conditional
    UPDATE; True when this call changed it. Of two callers at the same moment exactly one wins."""
    query = sql_update(Run).where(Run.id == run_id, Run.status == expected).values(**fields)
    changed = s.execute(query.execution_options(synchronize_session=False)).rowcount == 1
    s.expire_all()  # a run read before may have been changed by the winner: read it again
    return changed
