"""The chaos suite's client: submits a run of each kind, follows its event stream across server deaths
(reconnecting with Last-Event-ID, as a browser's EventSource does), and a killer that SIGKILLs the
server at a chosen moment and starts it again.

A submit cut off by the kill is retried the way a careful client would: a brief with the same
Idempotency-Key; a chat turn only when the session does not show the message yet; an upload again
(the endpoint has no idempotency, so a retry may start a second job: counted, not hidden).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from evals.serverproc import ServerProcess

TERMINAL = ("succeeded", "failed", "cancelled", "declined")
TRANSIENT = (httpx.TransportError, httpx.RemoteProtocolError)


@dataclass
class Seen:
    """What the client saw of one run."""

    events: list[dict] = field(default_factory=list)  # {"id", "event", "data"} in arrival order
    arrived: list[float] = field(default_factory=list)  # time.monotonic() at each event's arrival
    ended_at: float | None = None  # time.monotonic() when the terminal event arrived
    reconnects: int = 0
    submit_retries: int = 0
    runs_submitted: list[str] = field(default_factory=list)  # more than one when a retry started another


class Killer(threading.Thread):
    """SIGKILL the server `at` seconds after `start()`, or `jitter` seconds after `trigger` is set,
    whichever comes first; take `snapshot()` of the dead server's database; start the server again."""

    def __init__(self, server: ServerProcess, snapshot: Callable[[], dict], at: float, jitter: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.server, self.snapshot, self.at, self.jitter = server, snapshot, at, jitter
        self.trigger = threading.Event()
        self.killed_at: float | None = None  # time.monotonic() of the kill
        self.restart_s: float | None = None
        self.state: dict = {}
        self.error: str | None = None

    def run(self) -> None:
        if self.trigger.wait(self.at):
            time.sleep(self.jitter)
        self.server.kill()
        self.killed_at = time.monotonic()
        try:
            self.state = self.snapshot()
            self.restart_s = self.server.start()
        except Exception as exc:  # reported with the run, never lost in a thread
            self.error = f"{type(exc).__name__}: {exc}"


def client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"},
                        timeout=httpx.Timeout(60, connect=5))


def retrying(http: httpx.Client, call: Callable[[], httpx.Response], seen: Seen, deadline: float,
             before_retry: Callable[[], str | None] = lambda: None) -> str:
    """Submit until an answer comes; `before_retry` may find the run the lost answer had made."""
    while time.monotonic() < deadline:
        try:
            response = call()
        except TRANSIENT:
            seen.submit_retries += 1
            await_server(http, deadline)
            found = before_retry()
            if found:
                return found
            continue
        if response.status_code >= 400:
            raise RuntimeError(f"submit answered {response.status_code}: {response.text[:300]}")
        seen.runs_submitted.append(response.json()["id"])
        return response.json()["id"]
    raise TimeoutError("the submit never got an answer")


def get_json(http: httpx.Client, path: str, deadline: float) -> dict:
    """GET that waits out a server death."""
    while time.monotonic() < deadline:
        try:
            response = http.get(path)
        except TRANSIENT:
            await_server(http, deadline)
            continue
        response.raise_for_status()
        return response.json()
    raise TimeoutError(f"GET {path} never got an answer")


def await_server(http: httpx.Client, deadline: float) -> None:
    """Wait until the (restarted) server answers /healthz."""
    while time.monotonic() < deadline:
        try:
            if http.get("/healthz", timeout=2).status_code == 200:
                return
        except TRANSIENT:
            pass
        time.sleep(0.2)


def follow(http: httpx.Client, run_id: str, seen: Seen, deadline: float,
           on_event: Callable[[int], None] = lambda count: None) -> None:
    """Read the run's events to the terminal one, reconnecting after each server death; `on_event`
    gets the number of events received so far after each one."""
    last: str | None = None
    while time.monotonic() < deadline:
        headers = {"Last-Event-ID": last} if last else {}
        try:
            with http.stream("GET", f"/v1/runs/{run_id}/events", headers=headers) as response:
                if response.status_code != 200:
                    raise RuntimeError(f"events answered {response.status_code}")
                for event in read_sse(response):
                    seen.events.append(event)
                    seen.arrived.append(time.monotonic())
                    last = event.get("id") or last
                    on_event(len(seen.events))
                    if event["event"] in TERMINAL:
                        seen.ended_at = time.monotonic()
                        return
        except TRANSIENT:
            pass
        seen.reconnects += 1
        time.sleep(0.2)
    raise TimeoutError(f"run {run_id} did not end in time")


def read_sse(response: httpx.Response):
    """A text/event-stream as {"id", "event", "data"} dicts (data parsed as JSON)."""
    event: dict = {}
    for line in response.iter_lines():
        if not line:
            if "data" in event:
                event["data"] = json.loads(event["data"])
                yield event
            event = {}
        elif not line.startswith(":") and ":" in line:
            name, _, value = line.partition(":")
            event[name] = value.strip()
