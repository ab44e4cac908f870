"""Fencing (issue 17): while a worker executes a run it holds the run's lease, a fencing token that
grows with every claim. Every transaction committed on the run's behalf (a step's assets, an event, the
run's end) first reads the run's token under a share lock; when another worker has claimed the run since,
the commit is refused with LeaseLost and the stale worker stops that run. No run is ever advanced by two
workers at once, even when a worker that was thought dead (a long pause, a lost network) comes back.

The lease a thread works under is a context variable, so threads the run's work starts (the executor's
step pool, LangGraph's node threads) carry it when they are started with the caller's context.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

from memory import repo
from memory.db import Database


@dataclass(frozen=True)
class Lease:
    """The claim a worker holds on one run."""

    run_id: str
    token: int


class LeaseLost(RuntimeError):
    """Another worker claimed the run: this worker may no longer write for it."""

    def __init__(self, lease: Lease, now: int | None) -> None:
        super().__init__(f"run {lease.run_id}: lease {lease.token} was taken over (token now {now}); "
                         "this worker stops the run")
        self.lease = lease


_current: ContextVar[Lease | None] = ContextVar("storyloom_lease", default=None)


@contextmanager
def holding(lease: Lease) -> Iterator[Lease]:
    """Commits in this block (and in threads started with its context) are fenced by `lease`."""
    reset = _current.set(lease)
    try:
        yield lease
    finally:
        _current.reset(reset)


def current() -> Lease | None:
    return _current.get()


def verify(db: Database) -> None:
    """Raise LeaseLost now if the lease this thread works under was taken (before writes that are not
    database commits, e.g. a checkpoint kept through another connection)."""
    if _current.get() is not None:
        with db.session():
            pass  # the commit runs the check


@event.listens_for(Session, "before_commit")
def _fence(session: Session) -> None:
    lease = _current.get()
    if lease is None:
        return
    token = repo.lease_token(session, lease.run_id)
    if token != lease.token:
        raise LeaseLost(lease, token)
