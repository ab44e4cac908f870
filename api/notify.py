"""Wake the event streams of a run when the runner stores one of its events.

Event streams used to poll the events table four times a second each, whether anything happened or
not: under load the idle streams were most of the server's database work, and a new event waited up
to 250 ms for the next poll. Now the runner's event hook (called in worker threads, right after the
event's commit) sets an asyncio.Event per waiting stream; the stream then reads the new rows at once.
A slow fallback poll stays, for events stored by another process (several servers on PostgreSQL).
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class EventNotifier:
    """Per run, the asyncio.Events of the streams waiting for it; `publish` may be called from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: dict[str, set[asyncio.Event]] = defaultdict(set)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the streams run on (the app's lifespan calls this)."""
        self._loop = loop

    def publish(self, run_id: str) -> None:
        """Something was stored for `run_id`: wake its streams (thread-safe, never blocks)."""
        loop = self._loop
        if loop is not None and run_id in self._waiting and not loop.is_closed():  # nobody waits: no wake-up
            loop.call_soon_threadsafe(self._wake, run_id)

    def _wake(self, run_id: str) -> None:
        for flag in self._waiting.get(run_id, ()):
            flag.set()

    @contextmanager
    def subscription(self, run_id: str) -> Iterator[asyncio.Event]:
        """An Event set whenever `run_id` gets a new event while the block runs. Clear it *before*
        reading the table, then wait on it: an event stored in between still wakes the waiter."""
        flag = asyncio.Event()
        self._waiting[run_id].add(flag)
        try:
            yield flag
        finally:
            self._waiting[run_id].discard(flag)
            if not self._waiting[run_id]:
                del self._waiting[run_id]
