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
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from agent import events
from agent.runtime import Runtime
from memory import repo
from memory.models import Run

log = logging.getLogger("storyloom.jobs")
UNFINISHED = ("queued", "running")
Handler = Callable[[Runtime, str, Callable[[dict], None], Callable[[], bool]], Any]


class InFlightLimit(Exception):
    """A key already has as many runs queued or running as it may."""

    def __init__(self, active: int, limit: int) -> None:
        super().__init__(f"this key already has {active} runs queued or running (limit {limit}); "
                         "wait for some to finish or cancel them")


class FairQueue:
    """FIFO per owner, owners served in turn."""

    def __init__(self) -> None:
        self._queues: OrderedDict[str, deque[str]] = OrderedDict()
        self._cond = threading.Condition()

    def put(self, owner: str, run_id: str) -> None:
        with self._cond:
            self._queues.setdefault(owner, deque()).append(run_id)
            self._cond.notify()

    def get(self, timeout: float) -> str | None:
        """The next run of the owner whose turn it is, or None after `timeout` seconds of nothing."""
        with self._cond:
            if not self._cond.wait_for(lambda: any(self._queues.values()), timeout=timeout):
                return None
            owner = next(o for o, q in self._queues.items() if q)
            run_id = self._queues[owner].popleft()
            self._queues.move_to_end(owner)  # this owner goes to the back of the line
            return run_id

    def remove(self, run_id: str) -> bool:
        with self._cond:
            for queue in self._queues.values():
                if run_id in queue:
                    queue.remove(run_id)
                    return True
            return False

    def depth(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())


class Runner:
    """The server's workers. `handlers` maps a run kind to the function that executes it."""

    def __init__(self, rt: Runtime, workers: int, handlers: dict[str, Handler] | None = None,
                 on_event: Callable[[str, dict], None] = lambda run_id, event: None) -> None:
        self.rt, self.workers = rt, workers
        self.handlers = handlers or {}
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
        query = (select(Run).where(Run.status.in_(UNFINISHED), Run.api_key_id.is_not(None))
                 .order_by(Run.created_at))
        with self.rt.db.session() as s:
            runs = [(r.id, r.api_key_id, bool((r.info or {}).get("cancel_requested"))) for r in s.scalars(query)]
        for run_id, owner, cancel in runs:
            if cancel:  # the cancel was accepted before the restart: honour it, do not resume
                self._end(run_id, "cancelled", "cancelled")
                continue
            self.emit(run_id, {"type": "resumed", "detail": "server restarted: continuing from the last checkpoint"})
            self.submit(run_id, owner)
        self._reply_missing()
        return len(runs)

    def _reply_missing(self) -> None:
        """Chat replies of runs that finished just before a crash (record_reply adds each only once)."""
        query = select(Run.id).where(Run.session_id.is_not(None), Run.status.in_(events.TERMINAL),
                                     Run.api_key_id.is_not(None)).order_by(Run.created_at.desc()).limit(50)
        with self.rt.db.session() as s:
            finished = list(s.scalars(query))
        for run_id in finished:
            _reply(self.rt, run_id)

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
        with self.rt.db.session() as s:  # remembered, so a restart before the run stops still cancels it
            run = repo.get_run(s, run_id)
            if run.status not in UNFINISHED:
                return run.status
            repo.update_run(s, run_id, info={**(run.info or {}), "cancel_requested": True})
            return "cancelling"

    def in_flight(self, owner: str) -> int:
        """Queued plus running runs of one key (from the database, so restarts do not reset it)."""
        query = select(func.count()).select_from(Run).where(Run.api_key_id == owner, Run.status.in_(UNFINISHED))
        with self.rt.db.session() as s:
            return int(s.scalar(query) or 0)

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    # --- work --------------------------------------------------------------------------------

    def emit(self, run_id: str, event: dict) -> None:
        with self._emit_lock:
            event = {**event, "id": events.record(self.rt.db, run_id, event)}
        self.on_event(run_id, event)

    def _work(self) -> None:
        while not self._stop.is_set():
            run_id = self.queue.get(timeout=0.5)
            if run_id is not None:
                self._execute(run_id)

    def _execute(self, run_id: str) -> None:
        with self._lock:
            flag = self._cancels.setdefault(run_id, threading.Event())
            self._running.add(run_id)
        try:
            with self.rt.db.session() as s:
                kind = repo.get_run(s, run_id).kind
            self.emit(run_id, {"type": "status", "status": "running"})
            handler = self.handlers.get(kind) or _graph_handler
            handler(self.rt, run_id, lambda e: self.emit(run_id, e), flag.is_set)
        except Exception as exc:  # the worker must survive whatever a run does
            log.exception("run %s crashed", run_id)
            with self.rt.db.session() as s:
                repo.update_run(s, run_id, status="failed", error=f"internal error: {exc}",
                                finished_at=datetime.now(UTC))
        finally:
            with self._lock:
                self._running.discard(run_id)
                self._cancels.pop(run_id, None)
        with self.rt.db.session() as s:
            run = repo.get_run(s, run_id)
            status, error = run.status, run.error
        if status in UNFINISHED:  # a handler that returned without a verdict
            status, error = "failed", error or "the run ended without a result"
        self._end(run_id, status, error)

    def _end(self, run_id: str, status: str, error: str | None) -> None:
        with self.rt.db.session() as s:
            run = repo.get_run(s, run_id)
            if run.status != status or run.finished_at is None:
                repo.update_run(s, run_id, status=status, error=error, finished_at=run.finished_at or datetime.now(UTC))
            session_id = run.session_id
        if session_id:
            _reply(self.rt, run_id)
        self.emit(run_id, {"type": status, "status": status, "error": error})  # the terminal event


def _graph_handler(rt: Runtime, run_id: str, emit, cancelled) -> None:
    from agent.service import execute_run

    execute_run(rt, run_id, emit, cancelled)


def _reply(rt: Runtime, run_id: str) -> None:
    """The assistant's answer in the run's chat session (a failure here must not fail the run)."""
    from agent.chat import record_reply

    try:
        record_reply(rt, run_id)
    except Exception:
        log.exception("could not record the chat reply of run %s", run_id)
