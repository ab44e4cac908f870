"""Webhook deliveries: the outbox rows the sender works through."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from memory.repo._rows import add
from memory.repo._rows import update as update_row
from memory.tables import WebhookDelivery


def add_delivery(s: Session, *, run_id: str, url: str, next_at: datetime) -> WebhookDelivery:
    return add(s, WebhookDelivery(run_id=run_id, url=url, next_at=next_at))


def get_delivery(s: Session, run_id: str) -> WebhookDelivery | None:
    """The run's delivery, if it asked for one and has ended."""
    return s.scalar(select(WebhookDelivery).where(WebhookDelivery.run_id == run_id))


def claim_due(s: Session, *, now: datetime, hold_until: datetime, limit: int = 20) -> list[WebhookDelivery]:
    """Pending deliveries due by `now`, each taken by moving its next_at to `hold_until` only if no other
    sender moved it first (a conditional update), so two servers never send the same attempt."""
    due = select(WebhookDelivery).where(WebhookDelivery.status == "pending", WebhookDelivery.next_at <= now)
    claimed = []
    for row in s.scalars(due.order_by(WebhookDelivery.next_at).limit(limit)).all():
        taken = s.execute(update(WebhookDelivery).where(WebhookDelivery.id == row.id,
                                                        WebhookDelivery.next_at == row.next_at,
                                                        WebhookDelivery.status == "pending")
                          .values(next_at=hold_until).execution_options(synchronize_session=False))
        if taken.rowcount == 1:
            claimed.append(row)
    return claimed


def update_delivery(s: Session, delivery_id: str, **fields: Any) -> WebhookDelivery:
    return update_row(s, WebhookDelivery, delivery_id, fields)
