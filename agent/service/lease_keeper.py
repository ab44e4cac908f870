"""The heartbeat of one process's claims (issue 17): renews the leases its workers hold, and raises a
run's stop flag when the run's cancel was requested (by any server) or its lease was taken over.

One thread for all the process's runs: every `poll_s` it reads the held runs' tokens and cancel flags in
one query (so a cancel reaches the run within a second, wherever it was asked), and every third of the
lease it pushes their expiry forward. A worker killed with SIGKILL stops renewing: its leases expire and
the runs go to other workers.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from memory import repo
from memory.db import Database
from memory.leases import Lease

log = logging.getLogger("storyloom.leases")


@dataclass
class _Held:
    lease: Lease
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False


class LeaseKeeper:
    def __init__(self, db: Database, lease_s: float, poll_s: float = 0.25) -> None:
        self.db, self.lease_s, self.poll_s = db, lease_s, poll_s
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    def expiry(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.lease_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._quit.set()
        if self._thread is not None:
            self._thread.join(5)

    def hold(self, lease: Lease) -> threading.Event:
        """Keep `lease` alive until `drop`; returns the run's stop flag (cancel requested or lease lost)."""
        held = _Held(lease)
        with self._lock:
            self._held[lease.run_id] = held
        return held.stop

    def drop(self, run_id: str) -> None:
        with self._lock:
            self._held.pop(run_id, None)

    def signal(self, run_id: str) -> bool:
        """Raise the stop flag of a run held here (a cancel asked of this process); False if not held."""
        with self._lock:
            held = self._held.get(run_id)
        if held is not None:
            held.stop.set()
        return held is not None

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def _loop(self) -> None:
        renewed = 0.0
        while not self._quit.wait(self.poll_s):
            renewed += self.poll_s
            try:
                self._poll()
                if renewed >= self.lease_s / 3:
                    renewed = 0.0
                    self._renew()
            except Exception:  # the database may be away for a moment: try again next beat
                log.exception("lease heartbeat failed")

    def _poll(self) -> None:
        with self._lock:
            held = list(self._held.values())
        with self.db.session() as s:
            states = repo.lease_states(s, [h.lease.run_id for h in held])
        for h in held:
            token, cancel = states.get(h.lease.run_id, (None, False))
            if token != h.lease.token:
                self._lose(h)
            elif cancel:
                h.stop.set()

    def _renew(self) -> None:
        with self._lock:
            held = [h for h in self._held.values() if not h.lost]
        for h in held:
            with self.db.session() as s:
                kept = repo.renew_lease(s, h.lease.run_id, h.lease.token, until=self.expiry())
            if not kept:
                self._lose(h)

    def _lose(self, held: _Held) -> None:
        if not held.lost:
            log.warning("run %s: lease %s taken over by another worker; stopping it here",
                        held.lease.run_id, held.lease.token)
        held.lost = True
        held.stop.set()
