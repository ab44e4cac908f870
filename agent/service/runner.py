"""Background execution of runs inside one server process.

Runs wait in a fair queue: one FIFO per API key, served round robin, so one key's hundred briefs
cannot starve another key's chat turn. A fixed pool of worker threads executes them; a cancel
stops a queued run at once and a running one between steps (and between denoising steps of a
diffusion call). On start, every unfinished API run is queued again and resumes from its last
checkpoint. The database is the source of truth for statuses, so counts survive restarts.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from agent.review import AWAITING
from agent.runtime import Runtime
from agent.service import events, review
from agent.service.chat import add_reply, reply_text
from agent.service.queue import FairQueue, InFlightLimit
from agent.service.runs import execute_run, outcome
from memory import repo
from memory.tables import UNFINISHED_STATUSES

log = logging.getLogger("storyloom.runner")


class Runner:
    """The server's workers: every kind of run is executed by the run service."""

    def __init__(self, rt: Runtime, workers: int,
                 on_event: Callable[[str, dict], None] = lambda run_id, event: None) -> None:
        self.rt, self.workers = rt, workers
        self.on_event = on_event
        self.queue = FairQueue()
        self._cancels: dict[str, threading.Event] = {}
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._admission: dict[str, threading.Lock] = {}
        # Event ids come from the database at insert time; committing them one at a time keeps
        # commit order equal to id order, so a stream that read up to id N never misses a lower one.
        self._emit_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> int:
        """Start the workers and queue every unfinished API run again; returns how many were resumed."""
        resumed = self._requeue_unfinished()
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"run-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return resumed

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking runs. Running ones are not cancelled: they go on until the process exits and
        resume from their last checkpoint when a server starts again."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _requeue_unfinished(self) -> int:
        with self.rt.db.session() as s:
            ended = [r.id for r in repo.list_ended_without_event(s)]
            runs = [(r.id, r.api_key_id, bool((r.info or {}).get("cancel_requested")), "verdict" in (r.info or {}))
                    for r in repo.list_unfinished(s)]
        for run_id in ended:  # finished before a crash (or before ends were written whole): store the event
            self._end(run_id)
        for run_id, owner, cancel, decided in runs:
            if decided:  # delivered just before a crash: only its end is missing
                self._end(run_id)
            elif cancel:  # the cancel was accepted before the restart: honour it, do not resume
                self._end(run_id, "cancelled", "cancelled")
            else:
                self.emit(run_id, {"type": "resumed", "detail": "server restarted: continuing from its checkpoint"})
                self.submit(run_id, owner)
        return len(runs)

    # --- queue -------------------------------------------------------------------------------

    def admit(self, owner: str, limit: int, create: Callable[[], str]) -> str:
        """Create a run for `owner` unless it is at its in-flight limit (InFlightLimit). Counting and
        creating happen under one per-key lock, so parallel requests cannot pass the limit together."""
        with self._lock:
            lock = self._admission.setdefault(owner, threading.Lock())
        with lock:
            active = self.in_flight(owner)
            if active >= limit:
                raise InFlightLimit(active, limit)
            return create()

    def submit(self, run_id: str, owner: str | None) -> None:
        with self._lock:
            self._cancels.setdefault(run_id, threading.Event())
        self.queue.put(owner or "local", run_id)

    def cancel(self, run_id: str) -> str:
        """Cancel a run; returns its status afterwards (a finished run keeps its status)."""
        with self._lock:
            flag = self._cancels.setdefault(run_id, threading.Event())
            flag.set()
            running = run_id in self._running
        if not running and self.queue.remove(run_id):
            self._end(run_id, "cancelled", "cancelled before it started")
            return "cancelled"
        if not running and review.cancel_paused(self.rt, run_id):  # awaiting review: nothing runs, it just ends
            self._end(run_id, "cancelled", "cancelled")
            return "cancelled"
        with self.rt.db.session() as s:  # remembered, so a restart before the run stops still cancels it
            run = repo.get_run(s, run_id)
            if run.status not in UNFINISHED_STATUSES:
                return run.status
            repo.update_run(s, run_id, info={**(run.info or {}), "cancel_requested": True})
            return "cancelling"

    def in_flight(self, owner: str) -> int:
        """Queued plus running runs of one key (from the database, so restarts do not reset it)."""
        with self.rt.db.session() as s:
            return repo.count_in_flight(s, owner)

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

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

    def _work(self) -> None:
        while not self._stop.is_set():
            run_id = self.queue.get(timeout=0.5)
            if run_id is not None:
                self._execute(run_id)

    def _execute(self, run_id: str) -> None:
        if self._key_revoked(run_id):  # queued before the revoke, or found unfinished after a restart
            self._end(run_id, "cancelled", "the API key that started this run was revoked")
            return
        with self._lock:
            flag = self._cancels.setdefault(run_id, threading.Event())
            self._running.add(run_id)
        try:
            self.emit(run_id, {"type": "status", "status": "running"})
            execute_run(self.rt, run_id, lambda e: self.emit(run_id, e), flag.is_set, end=False)
        except Exception as exc:  # the worker must survive whatever a run does
            log.exception("run %s crashed", run_id)
            with self.rt.db.session() as s:
                repo.set_verdict(s, run_id, status="failed", error=f"internal error ({type(exc).__name__}); "
                                 "the server log has the details")
        finally:
            with self._lock:
                self._running.discard(run_id)
                self._cancels.pop(run_id, None)
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
