"""The webhook outbox on the real database: the delivery row commits with the run's terminal event
(once), and the sender's attempts against a real local receiver: delivered on a 2xx, refused at send
time when the target is no longer allowed (a DNS answer that changed), given up on 410 or past the
window, cut off at its deadline."""
from __future__ import annotations

import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agent.service import events
from agent.service.runs import create_run
from agent.settings import WebhookSettings
from agent.webhooks import signing
from agent.webhooks.sender import WebhookSender
from memory import repo
from memory.tables import utcnow
from tests.fixtures.webhook_receiver import SECRET, Receiver


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def _ended_run(runtime, url: str) -> str:
    run_id = create_run(runtime, kind="freeform", request="anything", webhook_url=url)
    events.finish(runtime.db, run_id, "declined", "nothing to do")
    return run_id


def _delivery(runtime, run_id: str):
    with runtime.db.session() as s:
        return repo.get_delivery(s, run_id)


def _send(runtime, **settings) -> int:
    config = WebhookSettings(secret=SECRET, allow="127.0.0.1", **settings)
    sender = WebhookSender(runtime.db, config, lambda run_id: {"id": run_id})
    with ThreadPoolExecutor(2) as pool:
        return sender.send_due(pool)


def test_the_delivery_is_written_with_the_terminal_event_once(runtime, receiver):
    run_id = _ended_run(runtime, receiver.url + "/hook")
    row = _delivery(runtime, run_id)
    assert (row.status, row.attempts, row.url) == ("pending", 0, receiver.url + "/hook")
    assert events.finish(runtime.db, run_id, "failed", "again") is None  # ended before: nothing more written
    assert _delivery(runtime, run_id).id == row.id
    plain = create_run(runtime, kind="freeform", request="no hook")
    events.finish(runtime.db, plain, "declined", None)
    assert _delivery(runtime, plain) is None


def _readme_verify():
    """The receiver's `verify` exactly as the README's webhooks section prints it."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(import base64, hashlib, hmac, time\n.*?)```", text, re.S)
    assert block, "the README lost its webhook verification snippet"
    scope: dict = {}
    exec(block.group(1), scope)
    return scope["verify"]


def test_a_2xx_marks_it_delivered_with_a_valid_signature(runtime, receiver):
    run_id = _ended_run(runtime, receiver.url + "/in?k=1")
    assert _send(runtime) == 1
    (got,) = receiver.wait_for(1)
    assert got.path == "/in?k=1" and got.body == f'{{"id":"{run_id}"}}'.encode()
    assert signing.verify(signing.signing_key(SECRET), got.headers, got.body)
    readme_verify = _readme_verify()
    assert readme_verify(SECRET, got.headers, got.body)
    assert not readme_verify(SECRET, got.headers, got.body.replace(b"}", b" }"))
    row = _delivery(runtime, run_id)
    assert (row.status, row.attempts, row.last_status, row.last_error) == ("delivered", 1, 200, None)
    assert got.headers["webhook-id"] == f"msg_{row.id}"
    assert _send(runtime) == 0  # nothing is due any more


def test_a_target_no_longer_allowed_at_send_time_is_not_called(runtime, receiver):
    run_id = _ended_run(runtime, receiver.url)  # accepted while 127.0.0.1 was allowed
    config = WebhookSettings(secret=SECRET, allow="")  # now the name points somewhere private: refused
    with ThreadPoolExecutor(1) as pool:
        assert WebhookSender(runtime.db, config, lambda run_id: {}).send_due(pool) == 1
    row = _delivery(runtime, run_id)
    assert receiver.seen == []
    assert row.status == "pending" and row.attempts == 1 and row.last_error.startswith("refused: ")


@pytest.mark.parametrize("status, settings", [(410, {}), (500, {"max_age_s": 0.001})])
def test_gone_or_past_the_window_it_is_given_up(runtime, status, settings):
    receiver = Receiver(lambda delivery, earlier: status)
    try:
        run_id = _ended_run(runtime, receiver.url)
        assert _send(runtime, **settings) == 1
        row = _delivery(runtime, run_id)
        assert (row.status, row.attempts, row.last_status) == ("failed", 1, status)
        assert row.last_error == f"HTTP {status}: ok"
    finally:
        receiver.close()


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline(runtime):
    """Each byte comes well within the socket timeout, so only the attempt's own deadline can end it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b"X")
                except OSError:
                    return
                stop.wait(0.1)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        run_id = _ended_run(runtime, f"http://127.0.0.1:{listener.getsockname()[1]}/slow")
        started = time.monotonic()
        assert _send(runtime, timeout_s=1.0) == 1
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
    row = _delivery(runtime, run_id)
    assert 0.9 <= elapsed < 3.0, elapsed
    assert row.status == "pending" and row.attempts == 1 and row.last_status is None and row.last_error


def test_a_retry_after_from_the_receiver_is_honoured(runtime):
    receiver = Receiver(lambda delivery, earlier: (503, {"Retry-After": "120"}))
    try:
        run_id = _ended_run(runtime, receiver.url)
        before = utcnow()
        assert _send(runtime) == 1  # the backoff alone would wait 2.5 to 5 s
    finally:
        receiver.close()
    row = _delivery(runtime, run_id)
    assert row.status == "pending" and row.last_status == 503
    assert 120 <= (row.next_at - before).total_seconds() < 125
