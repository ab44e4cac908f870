"""Server-sent events of one run, read from the events table: replay from `Last-Event-ID`, then
follow live, and end with the terminal event (succeeded, failed, cancelled or declined)."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import nullcontext, suppress
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from agent.runtime import Runtime
from agent.service import events
from api.notify import EventNotifier
from memory import repo

# A stream wakes when the runner stores one of its run's events (api/notify.py); it also reads the table
# this often for events stored by another process, and without a notifier every QUICK_POLL_S.
POLL_S = 1.0
QUICK_POLL_S = 0.25
FINISHED_CHECK_S = 1.0  # how often an idle stream checks whether its run ended without a terminal event
# A finished run whose terminal event never got written (a crash between the two writes) gets one
# made up once it has been finished this long, so no stream waits forever.
SYNTHETIC_AFTER_S = 5.0


def format_event(event: dict) -> str:
    payload = {"type": event["type"], **event.get("data", {}), "at": event.get("at")}
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"


MAX_ID = 2**31 - 1  # event ids are INTEGER (int4 on PostgreSQL); a bigger number would not even bind


def parse_last_id(value: str | None) -> int:
    try:
        return min(max(int((value or "0").strip()), 0), MAX_ID)
    except ValueError:
        return 0


async def stream(rt: Runtime, run_id: str, after: int, keepalive_s: float,
                 notifier: EventNotifier | None = None) -> AsyncIterator[str]:
    beat, checked = time.monotonic(), 0.0
    yield "retry: 2000\n\n"
    with notifier.subscription(run_id) if notifier else nullcontext(asyncio.Event()) as woken:
        while True:
            woken.clear()  # before reading: an event stored while we read still wakes the wait below
            batch = await run_in_threadpool(events.since, rt.db, run_id, after)
            for event in batch:
                after = event["id"]
                yield format_event(event)
                if event["type"] in events.TERMINAL:
                    return
            if batch:
                continue
            if time.monotonic() - checked >= FINISHED_CHECK_S:
                checked = time.monotonic()
                finished = await run_in_threadpool(_finished_long_ago, rt, run_id)
                if finished:
                    status, error = finished
                    yield format_event({"id": after, "type": status, "data": {"status": status, "error": error}})
                    return
            if time.monotonic() - beat > keepalive_s:
                beat = time.monotonic()
                yield ": keep-alive\n\n"
            with suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), POLL_S if notifier else QUICK_POLL_S)


def _finished_long_ago(rt: Runtime, run_id: str) -> tuple[str, str | None] | None:
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        if run.status not in events.TERMINAL or run.finished_at is None:
            return None
        if (datetime.now(UTC) - run.finished_at).total_seconds() < SYNTHETIC_AFTER_S:
            return None
        return run.status, run.error
