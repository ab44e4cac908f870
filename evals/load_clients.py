"""The simulated clients of the load suite and what they record.

Three behaviours, each a closed loop (request, wait for the answer, think, again):
- readers: lists and details of runs, assets (metadata and bytes) and sessions;
- streamers: replay a finished run's event stream to its end, then follow the key's newest live run;
- submitters: submit a run, open its event stream at once (the first event's delay is the "first event
  after a submit"), optionally cancel it, and read the stream to its terminal event; up to the key's
  in-flight limit (a 429 is the answer past it).
Think time is drawn uniformly from 0.5-1.5x `think_s`, so clients do not march in step.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from contextlib import aclosing
from dataclasses import dataclass, field

from evals.httpraw import Connection, Response

READS = (("GET /v1/runs", 30), ("GET /v1/runs/{id}", 30), ("GET /v1/assets/{id}", 15),
         ("GET /v1/assets/{id}/content", 5), ("GET /v1/sessions", 10), ("GET /v1/sessions/{id}", 10))
# What submitters submit. By default a narration job on a decorative picture in the server's library: a
# real run (queued, executed, events, report, outputs stored as assets) that needs no model, so the
# figures are the API's and the runner's, not model time on the same cores. "brief" is one short
# spoken narration: text-to-speech and its speech-to-text check run in the server too.
CHEAP_BRIEF = {"goal": "load test", "deliverables": [{"kind": "narration", "text": "Hello."}]}
SUBMISSIONS = {"narration": ("/v1/narrations", {"paths": ["rule.png"]}), "brief": ("/v1/briefs", CHEAP_BRIEF)}
TERMINAL = ("succeeded", "failed", "cancelled", "declined")


@dataclass
class KeyData:
    """What one API key owns after seeding: finished runs with assets, their assets, sessions."""

    key: str
    runs: list[str]
    assets: list[str]
    sessions: list[str]
    live: list[str] = field(default_factory=list)  # runs submitted during the load, newest last


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)  # (endpoint, status) -> count
    first_event_ms: list[float] = field(default_factory=list)
    locked_bodies: int = 0

    def add(self, endpoint: str, started: float, status: int | str, body: bytes = b"") -> None:
        self.latencies[endpoint].append((time.perf_counter() - started) * 1000)
        self.statuses[(endpoint, status)] += 1
        if isinstance(status, int) and status >= 500 and b"locked" in body:
            self.locked_bodies += 1


@dataclass
class Mix:
    think_s: float
    stop_at: float
    cancel: bool = False
    submission: str = "narration"
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def think(self) -> float:
        return self.think_s * self.rng.uniform(0.5, 1.5)

    def going(self) -> bool:
        return time.perf_counter() < self.stop_at


async def guarded(endpoint: str, rec: Recorder, call) -> Response | None:
    """Run one request; a connection error or a timeout is recorded under its name, not raised."""
    started = time.perf_counter()
    try:
        response = await asyncio.wait_for(call(), timeout=60)
    except TimeoutError:
        rec.add(endpoint, started, "timeout")
        return None
    except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        rec.add(endpoint, started, type(exc).__name__)  # e.g. ConnectionResetError: no HTTP status came back
        return None
    rec.add(endpoint, started, response.status, response.body)
    return response


async def reader(conn: Connection, data: KeyData, rec: Recorder, mix: Mix, reads=READS) -> None:
    names, weights = zip(*reads, strict=True)
    while mix.going():
        endpoint = mix.rng.choices(names, weights)[0]
        await guarded(endpoint, rec, lambda e=endpoint: conn.request("GET", _path(e, data, mix.rng)))
        await asyncio.sleep(mix.think())


def _path(endpoint: str, data: KeyData, rng: random.Random) -> str:
    path = endpoint.split(" ", 1)[1]
    if path.startswith("/v1/runs/"):
        return path.replace("{id}", rng.choice(data.runs))
    if path.startswith("/v1/assets/"):
        return path.replace("{id}", rng.choice(data.assets))
    if path.startswith("/v1/sessions/"):
        return path.replace("{id}", rng.choice(data.sessions))
    return path


async def streamer(conn: Connection, data: KeyData, rec: Recorder, mix: Mix) -> None:
    while mix.going():
        await follow(conn, f"/v1/runs/{mix.rng.choice(data.runs)}/events", "SSE replay to the end", rec, mix)
        if data.live:
            await follow(conn, f"/v1/runs/{data.live[-1]}/events", "SSE live run to the end", rec, mix)
        await asyncio.sleep(mix.think())


async def follow(conn: Connection, path: str, name: str, rec: Recorder, mix: Mix,
                 submitted: float | None = None, on_first=None) -> None:
    """Read a stream to its terminal event (or the end of the test). With `submitted`, the delay from the
    submit to the first event is recorded, and `on_first` (a coroutine function) is awaited after it."""
    started = time.perf_counter()
    status: int | str = "no_response"
    try:
        async with aclosing(conn.events(path)) as stream:
            async for item in stream:  # to the end of the body: the server ends it after the terminal event
                if isinstance(item, Response):
                    status = item.status
                    continue
                if submitted is not None:
                    rec.first_event_ms.append((time.perf_counter() - submitted) * 1000)
                    submitted = None
                    if on_first is not None:
                        await on_first()
                if not mix.going():
                    break
    except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        status = type(exc).__name__
        conn.close()
    rec.add(name, started, status)


async def submitter(conn: Connection, stream: Connection, data: KeyData, rec: Recorder, mix: Mix) -> None:
    path, body = SUBMISSIONS[mix.submission]
    while mix.going():
        submitted = time.perf_counter()
        response = await guarded(f"POST {path}", rec, lambda: conn.post_json(path, body))
        if response is not None and response.status == 202:
            run_id = response.json()["id"]
            data.live.append(run_id)
            del data.live[:-50]

            async def cancel(run_id: str = run_id) -> None:
                await guarded("POST /v1/runs/{id}/cancel", rec,
                              lambda: conn.request("POST", f"/v1/runs/{run_id}/cancel"))

            await follow(stream, f"/v1/runs/{run_id}/events", "SSE submit to terminal", rec, mix, submitted,
                         cancel if mix.cancel else None)
        await asyncio.sleep(mix.think())
