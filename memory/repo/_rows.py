"""Row helpers shared by the repositories: add with flush, update named columns only, owned lookup."""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from memory.tables import Base, is_id

M = TypeVar("M", bound=Base)


def add(s: Session, row: M) -> M:
    s.add(row)
    s.flush()
    return row


def update(s: Session, model: type[M], row_id: str, fields: dict[str, Any]) -> M:
    row = s.get(model, row_id)
    if row is None:
        raise KeyError(f"no {model.__name__} with id {row_id!r}")
    columns = inspect(model).column_attrs.keys()
    for name, value in fields.items():
        # setattr would silently accept a typo as a plain Python attribute.
        if name not in columns or name == "id":
            raise TypeError(f"{model.__name__} has no updatable field {name!r}")
        setattr(row, name, value)
    s.flush()
    return row


def get_owned(s: Session, model: type[M], row_id: str, owner: str | None) -> M | None:
    """The row with `row_id`; with `owner`, only when it belongs to that API key (else None, so another
    key's rows look exactly like missing ones). Ids of the wrong shape are missing without a query."""
    if owner is not None and not is_id(row_id):
        return None
    row = s.get(model, row_id)
    if row is None or (owner is not None and row.api_key_id != owner):
        return None
    return row
