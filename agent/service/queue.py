"""The fair queue of the server's runs: one FIFO per API key, served round robin, so one key's hundred
briefs cannot starve another key's chat turn."""
from __future__ import annotations

import threading
from collections import OrderedDict, deque


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
