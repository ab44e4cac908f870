"""The webhook outbox: a delivery row written in the transaction that ends the run, and the schedule of
its attempts (exponential backoff with jitter, given up past the retry window)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from memory import repo
from memory.tables import utcnow

INFO_KEY = "webhook_url"  # where a run keeps the URL it was given, until it ends


def enqueue(s: Session, run: Any) -> None:
    """Write the run's delivery (due now) when it asked for one; called inside the run's final transaction."""
    url = (run.info or {}).get(INFO_KEY)
    if url:
        repo.add_delivery(s, run_id=run.id, url=url, next_at=utcnow())


def webhook_id(delivery_id: str) -> str:
    """The `webhook-id` header: one per run, the same on every attempt (receivers deduplicate by it)."""
    return f"msg_{delivery_id}"


def retry_at(*, attempts: int, created_at: datetime, now: datetime, settings: Any, at_least_s: float | None = None,
             draw: Any = random.random) -> datetime | None:
    """When attempt `attempts + 1` is due: backoff_s doubling per failed attempt up to backoff_max_s, with
    jitter (50 to 100 % of that), so receivers that failed together are not hit together again; never
    sooner than the receiver's Retry-After (`at_least_s`, itself capped at backoff_max_s). None when that
    lies past the retry window (max_age_s after the delivery was written): give up."""
    delay = min(settings.backoff_max_s, settings.backoff_s * 2 ** max(attempts - 1, 0)) * (0.5 + draw() / 2)
    delay = max(delay, min(at_least_s or 0.0, settings.backoff_max_s))
    due = now + timedelta(seconds=delay)
    return None if due > created_at + timedelta(seconds=settings.max_age_s) else due
