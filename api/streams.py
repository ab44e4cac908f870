"""Caps on open event streams (issue 19: one key held 100 streams, each reading the database): at most
`per_key` for one API key and `total` in all; past either, 429 before the stream opens.

A slot is taken in the route, on the event loop (no lock needed), and given back when the stream's
generator ends for any reason, or when a stream that never started is dropped.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

from api.errors import ApiError


class StreamSlots:
    def __init__(self, per_key: int, total: int) -> None:
        self.per_key, self.total = per_key, total
        self.open: Counter[str] = Counter()

    def take(self, key_id: str) -> Slot:
        """A slot for one more stream of `key_id`, or the 429 ApiError to answer."""
        if self.open[key_id] >= self.per_key:
            raise ApiError(429, "rate_limited", f"{self.open[key_id]} event streams are open for this key; the "
                           f"limit is {self.per_key}: close one first", {"Retry-After": "5"})
        if sum(self.open.values()) >= self.total:
            raise ApiError(429, "rate_limited", f"the server holds its limit of {self.total} event streams; "
                           "try again shortly", {"Retry-After": "5"})
        self.open[key_id] += 1
        return Slot(self, key_id)


class Slot:
    def __init__(self, slots: StreamSlots, key_id: str) -> None:
        self.slots, self.key_id, self.held = slots, key_id, True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.slots.open[self.key_id] -= 1
            if self.slots.open[self.key_id] <= 0:
                del self.slots.open[self.key_id]

    def __del__(self) -> None:  # a response dropped before its body started never runs `held_while`
        self.release()


async def held_while(slot: Slot, body: AsyncIterator[str]) -> AsyncIterator[str]:
    """`body`, with `slot` given back when it ends (finished, failed or the client went away)."""
    try:
        async for chunk in body:
            yield chunk
    finally:
        slot.release()
