"""Background execution of runs: the workers of one process, taking runs from the database.

The queue is the runs table. A worker claims the next run with a lease (memory/repo/claims.py): fair
per API key across every process (the key served least recently first, then its oldest run), so one
key's hundred briefs cannot starve another key's chat turn. The lease is renewed by a heartbeat
(lease_keeper.py); a worker that dies loses it on expiry and another worker resumes the run from its
last checkpoint, while the fencing token keeps the dead-thought worker from committing anything more
(memory/leases.py). A cancel stops a queued run at once and a running one, on whatever process,
between steps (and between denoising steps of a diffusion call). The database is the source of truth
for statuses, so counts survive restarts.

SQLite has one process (its server lock): at start its leases all belonged to a process that is gone,
so they end at once and its unfinished runs resume without waiting for expiry.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from agent.review import AWAITING
from agent.runtime import Runtime
from agent.service import events, review
from agent.service.chat import add_reply, reply_text
from agent.service.lease_keeper import LeaseKeeper
from agent.service.queue import InFlightLimit
from agent.service.runs import execute_run, outcome
from memory import repo
from memory.leases import Lease, LeaseLost, holding
from memory.tables import UNFINISHED_STATUSES

log = logging.getLogger("storyloom.runner")


class Runner:
    """One process's workers (`workers` threads; 0: this process only queues, cancels and reads)."""

    def __init__(self, rt: Runtime, workers: int,
                 on_event: Callable[[str, dict], None] = lambda run_id, event: None) -> None:
        self.rt, self.workers = rt, workers
        self.on_event = on_event
        self.owner = f"{_machine()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        server = rt.settings.server
        self.keeper = LeaseKeeper(rt.db, server.lease_s)
        self.claim_poll_s = server.claim_poll_s
        self._wake = threading.Condition()
        self._claim_lock = threading.Lock()  # one claim at a time per process (SQLite has no row locks)
        self._lock = threading.Lock()
        self._admission: dict[str, threading.Lock] = {}
        # Event ids come from the database at insert time; committing them one at a time keeps
        # commit order equal to id order, so a stream that read up to id N never misses a lower one
        # (within a process; a stream also re-reads, see api/sse.py).
        self._emit_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> int:
        """Start the workers; returns how many API runs wait for one (queued or with an expired lease)."""
        with self.rt.db.session() as s:
            if self.rt.db.engine.dialect.name == "sqlite":
                repo.expire_leases(s)
            else:
                self._end_leases_of_dead_neighbours(s)
            ended = [r.id for r in repo.list_ended_without_event(s)]
        for run_id in ended:  # finished before a crash (or before ends were written whole): store the event
            self._end(run_id)
        if self.workers:
            self.keeper.start()
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"run-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.queue_depth()

    def _end_leases_of_dead_neighbours(self, s: Session) -> None:
        """Leases of processes of this machine (same host name and pid namespace) that are gone end now,
        so a server restarted after a crash resumes its runs at once instead of after the lease."""
        for run_id, owner, token in repo.list_leases(s, owner_prefix=f"{_machine()}:"):
            if not _alive(int(owner.rsplit(":", 2)[1])):
                repo.release_lease(s, run_id, token)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking runs. Running ones are not cancelled: they go on until the process exits, and
        then resume from their last checkpoint on another worker (or this one, started again)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self.keeper.stop()

    # --- queue -------------------------------------------------------------------------------

    def admit(self, owner: str, limit: int, create: Callable[[], str]) -> str:
        """Create a run for `owner` unless it is at its in-flight limit (InFlightLimit), and store its
        `queued` event. Counting and creating happen under one per-key lock (a thread lock, and on
        PostgreSQL an advisory lock for other servers), so parallel requests cannot pass the limit
        together; this process's workers claim nothing until the `queued` event is stored."""
        with self._lock:
            lock = self._admission.setdefault(owner, threading.Lock())
        with lock, self.rt.db.session() as held:
            repo.lock_key_admission(held, owner)
            active = self.in_flight(owner)
            if active >= limit:
                raise InFlightLimit(active, limit)
            with self._claim_lock:
                run_id = create()
                self.emit(run_id, {"type": "queued", "status": "queued"})
            return run_id

    def submit(self, run_id: str, owner: str | None) -> None:
        """A run was queued: wake an idle worker of this process (others find it within claim_poll_s)."""
        with self._wake:
            self._wake.notify()

    def cancel(self, run_id: str) -> str:
        """Cancel a run; returns its status afterwards (a finished run keeps its status). The request is
        stored, so the worker holding the run (here or in another process) stops it at its next step,
        and a run found later with it ends cancelled instead of resuming."""
        if review.cancel_paused(self.rt, run_id):  # awaiting review: nothing runs, it just ends
            self._end(run_id, "cancelled", "cancelled")
            return "cancelled"
        with self.rt.db.session() as s:
            run = repo.get_run(s, run_id)
            if run.status not in UNFINISHED_STATUSES:
                return run.status
            repo.request_cancel(s, run_id)
        if self.keeper.signal(run_id):
            return "cancelling"
        with self._claim_lock, self.rt.db.session() as s:  # nobody holds it: it ends here, at once
            claim = repo.claim_idle(s, run_id, owner=self.owner, now=datetime.now(UTC), until=self.keeper.expiry())
        if claim is None:
            return "cancelling"
        reason = "cancelled" if claim.resumed else "cancelled before it started"
        self._held(claim, lambda: self._end(run_id, "cancelled", reason))
        return "cancelled"

    def in_flight(self, owner: str) -> int:
        """Queued plus running runs of one key (from the database, so restarts do not reset it)."""
        with self.rt.db.session() as s:
            return repo.count_in_flight(s, owner)

    def queue_depth(self) -> int:
        """API runs waiting for a worker, of every process."""
        with self.rt.db.session() as s:
            return repo.count_waiting(s, now=datetime.now(UTC))

    def busy(self) -> int:
        """Runs this process's workers are executing now."""
        return self.keeper.held()

    # --- work --------------------------------------------------------------------------------

    def emit(self, run_id: str, event: dict) -> None:
        """Store an event and pass it on. A terminal event ends the run: its final status, chat reply
        and the event commit together (a repeat, e.g. after a restart, stores and passes nothing)."""
        with self._emit_lock:
            if event.get("type") in events.TERMINAL:
                stored = events.finish(self.rt.db, run_id, event["type"], event.get("error"), also=_reply)
                if stored is None:
                    return
                event = stored
            else:
                event = {**event, "id": events.record(self.rt.db, run_id, event)}
        self.on_event(run_id, event)

    def work_once(self) -> bool:
        """Claim one run and execute it in this thread; False when none was waiting."""
        claim = self._claim()
        if claim is None:
            return False
        stop = self.keeper.hold(Lease(claim.run_id, claim.token))
        self._held(claim, lambda: self._execute(claim, stop))
        return True

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.work_once()
            except Exception:  # the database away for a moment: the worker waits and tries again
                log.exception("claiming a run failed")
                worked = False
            if not worked:
                with self._wake:
                    self._wake.wait(self.claim_poll_s)

    def _claim(self) -> repo.Claim | None:
        with self._claim_lock, self.rt.db.session() as s:
            return repo.claim_next(s, owner=self.owner, now=datetime.now(UTC), until=self.keeper.expiry())

    def _held(self, claim: repo.Claim, work: Callable[[], None]) -> None:
        """Do `work` under the claim's lease; a lease taken over stops the work (nothing more is written)."""
        lease = Lease(claim.run_id, claim.token)
        try:
            with holding(lease):
                work()
        except LeaseLost as exc:
            log.warning("%s", exc)
        finally:
            self.keeper.drop(claim.run_id)
            with self.rt.db.session() as s:
                repo.release_lease(s, claim.run_id, claim.token)

    def _execute(self, claim: repo.Claim, stop: threading.Event) -> None:
        run_id = claim.run_id
        if self._key_revoked(run_id):  # queued before the revoke, or found unfinished after a restart
            return self._end(run_id, "cancelled", "the API key that started this run was revoked")
        if claim.cancel_requested:  # the cancel was accepted before its worker stopped: honour it, do not resume
            return self._end(run_id, "cancelled", "cancelled")
        if claim.decided:  # delivered just before a crash: only its end is missing
            return self._end(run_id)
        if claim.resumed:
            self.emit(run_id, {"type": "resumed", "detail": "its worker stopped: continuing from its checkpoint"})
        try:
            self.emit(run_id, {"type": "status", "status": "running"})
            execute_run(self.rt, run_id, lambda e: self.emit(run_id, e), stop.is_set, end=False)
        except LeaseLost:
            raise
        except Exception as exc:  # the worker must survive whatever a run does
            log.exception("run %s crashed", run_id)
            with self.rt.db.session() as s:
                repo.set_verdict(s, run_id, status="failed", error=f"internal error ({type(exc).__name__}); "
                                 "the server log has the details")
        if not self._paused(run_id):  # a run awaiting review ends later, after its approve
            self._end(run_id)

    def _paused(self, run_id: str) -> bool:
        with self.rt.db.session() as s:
            return repo.get_run(s, run_id).status == AWAITING

    def _key_revoked(self, run_id: str) -> bool:
        with self.rt.db.session() as s:
            run = repo.get_run(s, run_id)
            key = repo.get_key(s, run.api_key_id) if run.api_key_id else None
            return key is not None and key.revoked_at is not None

    def _end(self, run_id: str, status: str | None = None, error: str | None = None) -> None:
        """The run's end, the only place a served run gets its final status (default: its verdict)."""
        if status is None:
            status, error = outcome(self.rt, run_id)
        self.emit(run_id, {"type": status, "status": status, "error": error})  # the terminal event


def _machine() -> str:
    """This machine's host name and pid namespace: pids are comparable only within the same pair."""
    try:
        namespace = "".join(c for c in os.readlink("/proc/self/ns/pid") if c.isdigit())
    except OSError:
        namespace = "0"
    return f"{socket.gethostname()}:{namespace}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _reply(s: Session, run) -> None:
    """The assistant's answer in the run's chat session, written with the run's end (a bug in the
    wording must not keep the run from ending: it is logged and the reply left out)."""
    try:
        text = reply_text(run) if run.session_id else None
    except Exception:
        log.exception("could not word the chat reply of run %s", run.id)
        return
    if text is not None:
        add_reply(s, run, text)
