"""The delivery thread: takes due outbox rows, POSTs each run's summary signed, records what happened.

At least once: a row is marked delivered only after a 2xx came back, so a crash between the answer and
that write sends it again on the next start (with the same webhook-id). Each attempt is bounded: the
target is checked again after a fresh DNS lookup and connected to by the checked address, the attempt is
cut off after timeout_s, and at most MAX_RESPONSE_BYTES of the answer are read. Redirects are not followed
(a 3xx is a failed attempt, as the Standard Webhooks text advises)."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from agent.webhooks import outbox, signing
from agent.webhooks.target import Refused, allow_list, resolve
from agent.webhooks.transport import post
from memory import repo
from memory.db import Database
from memory.tables import utcnow

log = logging.getLogger("storyloom.webhooks")
PARALLEL = 4  # attempts in flight at once, so one slow receiver does not hold up the others


class WebhookSender:
    """Sends due deliveries from a background thread; `wake()` after a run ends sends its webhook at once."""

    def __init__(self, db: Database, settings: Any, summary: Callable[[str], dict]) -> None:
        self.db, self.settings, self.summary = db, settings, summary
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="webhook-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        with ThreadPoolExecutor(PARALLEL, thread_name_prefix="webhook-post") as pool:
            while not self._stop.is_set():
                try:
                    full = self.send_due(pool) == PARALLEL
                except Exception:  # the database away for a moment, or a bug: the thread must go on
                    log.exception("webhook sender: a round failed; its deliveries are tried again later")
                    full = False
                if not full:
                    self._wake.wait(self.settings.poll_s)
                    self._wake.clear()

    def send_due(self, pool: ThreadPoolExecutor) -> int:
        """One round: take up to PARALLEL due deliveries and attempt each; returns how many were taken."""
        now = utcnow()
        hold = now + timedelta(seconds=2 * self.settings.timeout_s + 30)  # past any attempt's end
        with self.db.session() as s:
            rows = [(r.id, r.run_id, r.url, r.attempts, r.created_at)
                    for r in repo.claim_due(s, now=now, hold_until=hold, limit=PARALLEL)]
        list(pool.map(lambda row: self._attempt(*row), rows))
        return len(rows)

    def _attempt(self, delivery_id: str, run_id: str, url: str, attempts: int, created_at: Any) -> None:
        status, error, wait_s = self._send(delivery_id, run_id, url)
        fields: dict[str, Any] = {"attempts": attempts + 1, "last_status": status, "last_error": error}
        if error is None:
            fields.update(status="delivered", delivered_at=utcnow())
        elif status == 410:  # Gone: the receiver wants no more (Standard Webhooks)
            fields.update(status="failed")
        else:
            due = outbox.retry_at(attempts=attempts + 1, created_at=created_at, now=utcnow(), settings=self.settings,
                                  at_least_s=wait_s)
            fields.update({"status": "pending", "next_at": due} if due else {"status": "failed"})
            log.info("webhook of run %s, attempt %d: %s", run_id, attempts + 1, error)
        with self.db.session() as s:
            repo.update_delivery(s, delivery_id, **fields)

    def _send(self, delivery_id: str, run_id: str, url: str) -> tuple[int | None, str | None, float | None]:
        """One attempt: the HTTP status (None when none came), an error line (None on a 2xx) and the
        receiver's Retry-After in seconds."""
        secret = self.settings.secret
        if secret is None:
            return None, "no signing secret is configured (STORYLOOM_WEBHOOKS__SECRET)", None
        try:
            target = resolve(url, allow_list(self.settings.allow))
            body = json.dumps(self.summary(run_id), separators=(",", ":"), ensure_ascii=False).encode()
            sent = signing.headers(signing.signing_key(secret.get_secret_value()), outbox.webhook_id(delivery_id),
                                   int(time.time()), body)
            answer = post(target, sent, body, self.settings.timeout_s)
        except Refused as exc:
            return None, f"refused: {exc}", None
        except OSError as exc:  # connection refused or reset, timeout, TLS failure, cut off at the deadline
            return None, f"{type(exc).__name__}: {exc}"[:500], None
        if 200 <= answer.status < 300:
            return answer.status, None, None
        text = answer.text.decode("utf-8", "replace")[:300]
        return answer.status, f"HTTP {answer.status}: {text}", answer.retry_after
