"""Claims: which worker executes which run (issue 17). A worker claims a queued API run, or a running one
whose lease expired (its worker died), by raising the run's fencing token; only the holder of the current
token may commit for the run (memory/leases.py checks it in every commit of the run's work).

On PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED`, so workers of several processes
never wait on, or take, the same run. Each claim also re-checks the token it read (an optimistic update),
which is what keeps two threads of one SQLite process apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from memory.tables import Run


@dataclass(frozen=True)
class Claim:
    """A run a worker now holds: until `expires`, with fencing token `token`."""

    run_id: str
    key_id: str | None
    token: int
    resumed: bool  # it was running (or claimed) before: its worker died or its server restarted
    cancel_requested: bool
    decided: bool  # its work has a verdict (delivered just before a crash): only its end is missing


def _claimable(now: datetime):
    expired = or_(Run.lease_expires_at.is_(None), Run.lease_expires_at < now)
    return and_(Run.api_key_id.is_not(None),
                or_(Run.status == "queued", and_(Run.status == "running", expired)))


def _fair_order():
    """The key served least recently first (never served: first of all), then its oldest run."""
    other = aliased(Run)
    last_served = select(func.max(other.claimed_at)).where(other.api_key_id == Run.api_key_id).scalar_subquery()
    return last_served.asc().nulls_first(), Run.created_at, Run.id


def claim_next(s: Session, *, owner: str, now: datetime, until: datetime) -> Claim | None:
    """Claim the next run in fair order (see `_fair_order`), or None when there is nothing to do."""
    for _ in range(5):  # a lost race (SQLite threads) just tries the next candidate
        query = (select(Run.id, Run.lease_token, Run.status).where(_claimable(now)).order_by(*_fair_order()).limit(1)
                 .with_for_update(skip_locked=True, of=Run))
        row = s.execute(query).first()
        if row is None:
            return None
        claim = _take(s, row.id, row.lease_token, owner=owner, now=now, until=until, resumed=row.status == "running")
        if claim is not None:
            return claim
    return None


def claim_idle(s: Session, run_id: str, *, owner: str, now: datetime, until: datetime) -> Claim | None:
    """Claim `run_id` if no worker holds it (queued, or its lease expired): a cancel ends such a run
    itself. None when a worker holds it."""
    row = s.execute(select(Run.id, Run.lease_token, Run.status).where(Run.id == run_id, _claimable(now))
                    .with_for_update(skip_locked=True)).first()
    return None if row is None else _take(s, row.id, row.lease_token, owner=owner, now=now, until=until,
                                          resumed=row.status == "running")


def _take(s: Session, run_id: str, seen: int, *, owner: str, now: datetime, until: datetime,
          resumed: bool = False) -> Claim | None:
    done = s.execute(update(Run).where(Run.id == run_id, Run.lease_token == seen)
                     .values(lease_token=seen + 1, lease_owner=owner, lease_expires_at=until, claimed_at=now,
                             status="running").execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return None
    run = s.get(Run, run_id, populate_existing=True)
    info = run.info or {}
    return Claim(run_id, run.api_key_id, seen + 1, resumed or seen > 0,
                 bool(info.get("cancel_requested")), "verdict" in info)


def renew_lease(s: Session, run_id: str, token: int, *, until: datetime) -> bool:
    """Push the lease's expiry to `until`; False when the lease is no longer this token's (taken over)."""
    done = s.execute(update(Run).where(Run.id == run_id, Run.lease_token == token)
                     .values(lease_expires_at=until).execution_options(synchronize_session=False))
    return done.rowcount == 1


def release_lease(s: Session, run_id: str, token: int) -> None:
    """The holder is done with the run: its lease ends now (the owner stays: who executed it last)."""
    s.execute(update(Run).where(Run.id == run_id, Run.lease_token == token)
              .values(lease_expires_at=None).execution_options(synchronize_session=False))


def lease_token(s: Session, run_id: str) -> int | None:
    """The run's current fencing token, read under a share lock: a claim (an update of the row) waits
    until this transaction ends, so what this transaction commits was committed under that token."""
    return s.scalar(select(Run.lease_token).where(Run.id == run_id).with_for_update(read=True))


def lease_states(s: Session, run_ids: list[str]) -> dict[str, tuple[int, bool]]:
    """Per run: its fencing token and whether a cancel was requested (what a lease keeper polls)."""
    rows = s.execute(select(Run.id, Run.lease_token, Run.info).where(Run.id.in_(run_ids))) if run_ids else []
    return {r.id: (r.lease_token, bool((r.info or {}).get("cancel_requested"))) for r in rows}


def expire_leases(s: Session) -> int:
    """Every lease ends now: only for a process that knows it is alone on the database (SQLite's server
    lock), whose running runs belonged to a process that is gone."""
    done = s.execute(update(Run).where(Run.status == "running", Run.lease_expires_at.is_not(None))
                     .values(lease_expires_at=None).execution_options(synchronize_session=False))
    return done.rowcount


def list_leases(s: Session, *, owner_prefix: str) -> list[tuple[str, str, int]]:
    """(run id, owner, token) of the unexpired leases whose owner starts with `owner_prefix`."""
    query = select(Run.id, Run.lease_owner, Run.lease_token).where(
        Run.status == "running", Run.lease_expires_at.is_not(None), Run.lease_owner.startswith(owner_prefix))
    return [(r.id, r.lease_owner, r.lease_token) for r in s.execute(query)]


def count_waiting(s: Session, *, now: datetime) -> int:
    """API runs a worker could claim now (queued, or running with an expired lease)."""
    return int(s.scalar(select(func.count()).select_from(Run).where(_claimable(now))) or 0)


def request_cancel(s: Session, run_id: str) -> Run:
    """Mark the run's cancel in its info, under a row lock so a concurrent write of info is not lost."""
    run = s.get(Run, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise KeyError(run_id)
    run.info = {**(run.info or {}), "cancel_requested": True}
    s.flush()
    return run


def lock_key_admission(s: Session, key_id: str) -> None:
    """Hold the key's admission lock until this transaction ends, so two servers cannot both let a key
    pass its in-flight limit (PostgreSQL; a SQLite database has one server, whose own lock suffices)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"storyloom-admit:{key_id}"})
