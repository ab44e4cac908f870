"""SQL tables of Storyloom's memory: runs, their steps, the assets they made, and scores.

Only portable column types are used so the same models run on SQLite and PostgreSQL.
`migrations/versions` must create exactly what is declared here (a test compares them).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Documented values of the string "enum" columns. Plain strings (not database enums) so a new
# value needs no migration on PostgreSQL.
RUN_KINDS = ("story", "brief", "narration", "freeform")
RUN_STATUSES = ("queued", "running", "awaiting_review", "succeeded", "failed", "cancelled", "declined")
UNFINISHED_STATUSES = ("queued", "running")
# awaiting_review: paused after planning until its storyboard is approved; it holds no worker and is
# neither unfinished (nothing resumes it on a restart) nor terminal.
# declined: the capability check found nothing Storyloom can do for the request (or a named file is absent).
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled", "declined")
STEP_STATUSES = ("pending", "running", "succeeded", "failed", "skipped")
ASSET_KINDS = ("image", "audio", "video", "subtitles", "document")
# pending: not delivered yet (retries go on); delivered: a 2xx came back; failed: given up (410, or too old).
WEBHOOK_STATUSES = ("pending", "delivered", "failed")
CAST_KINDS = ("character", "style", "place")  # a style's `look` is its prompt text

# Named constraints make batch migrations on SQLite (which recreate tables) predictable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite keeps no offset, so values would come back naive there; this stores UTC and hands
    back aware UTC datetimes everywhere. Naive input is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one, e.g. datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_ID = re.compile(r"[0-9a-f]{32}")

# In-place changes (run.info["x"] = 1) are tracked, so they are saved without reassigning.
JSONDict = MutableDict.as_mutable(JSON)


def new_id() -> str:
    """A fresh 32-character lowercase hex id."""
    return uuid.uuid4().hex


def is_id(value: object) -> bool:
    """Whether `value` has the shape of an id `new_id` makes."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _id() -> Mapped[str]:
    return mapped_column(String(32), primary_key=True, default=new_id)


def _fk(target: str, *, nullable: bool = True, index: bool = False) -> Mapped[Any]:
    return mapped_column(String(32), ForeignKey(target), nullable=nullable, index=index)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow)


class Base(DeclarativeBase):
    """Declarative base of every Storyloom table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApiKey(Base):
    """A client key for the HTTP API; only its hash is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = _created()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ChatSession(Base):
    """A conversation: a thread of messages and the runs started from it."""

    __tablename__ = "sessions"

    id: Mapped[str] = _id()
    api_key_id: Mapped[str | None] = _fk("api_keys.id")
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = _created()
    # What every later turn uses until changed: {"style": "watercolour", "seed": 7} (either may be absent).
    pins: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class Message(Base):
    """One turn of a session (user, assistant or system)."""

    __tablename__ = "messages"

    id: Mapped[str] = _id()
    session_id: Mapped[str] = _fk("sessions.id", nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = _fk("runs.id")
    created_at: Mapped[datetime] = _created()


class Run(Base):
    """One request carried from plan to delivery; `status` is one of RUN_STATUSES."""

    __tablename__ = "runs"

    id: Mapped[str] = _id()
    session_id: Mapped[str | None] = _fk("sessions.id")
    api_key_id: Mapped[str | None] = _fk("api_keys.id")
    kind: Mapped[str] = mapped_column(String(20))
    request: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    profile: Mapped[str] = mapped_column(String(50))
    # Seeds are often drawn from the full 32- or 64-bit range, past PostgreSQL's INTEGER.
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # none_as_null: "no plan yet" is SQL NULL, not the JSON value null.
    plan: Mapped[dict[str, Any] | None] = mapped_column(
        MutableDict.as_mutable(JSON(none_as_null=True)), nullable=True
    )
    info: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_dir: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    # A client's Idempotency-Key and the hash of the body it came with: a repeat gets this run back.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = _created()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The worker's claim (issue 17): who executes the run, until when, and a fencing token that grows with
    # every claim, so a worker whose lease was taken over cannot commit (memory/leases.py).
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_token: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    steps: Mapped[list[Step]] = relationship(order_by="Step.position", viewonly=True)
    assets: Mapped[list[Asset]] = relationship(order_by="Asset.created_at", viewonly=True)

    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key"),
                      Index("ix_runs_status_created_at", "status", "created_at"))


class Step(Base):
    """One tool call of a run's plan; `key` is the plan's step id ("s1")."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("run_id", "key"),)

    id: Mapped[str] = _id()
    run_id: Mapped[str] = _fk("runs.id", nullable=False, index=True)
    key: Mapped[str] = mapped_column(String(64))
    # Insertion order within the run; ids are random and timestamps can tie.
    position: Mapped[int] = mapped_column(Integer, default=0)
    tool: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    intent: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)


class Asset(Base):
    """A produced file (stored by sha256) with its full lineage; `parent_id` links a revision."""

    __tablename__ = "assets"

    id: Mapped[str] = _id()
    run_id: Mapped[str | None] = _fk("runs.id", index=True)
    step_id: Mapped[str | None] = _fk("steps.id")
    tool: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    role: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    mime: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Videos pass 2 GiB, past PostgreSQL's INTEGER.
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    model_revision: Mapped[str | None] = mapped_column(String(100), nullable=True)
    intent: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    parent_id: Mapped[str | None] = _fk("assets.id")
    # sha256 of (tool, model and revision, canonical arguments, seed): the tool-call cache's key.
    cache_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = _created()

    scores: Mapped[list[Score]] = relationship(order_by="Score.created_at", viewonly=True)
    parent: Mapped[Asset | None] = relationship(remote_side=[id], viewonly=True)


class Score(Base):
    """One critic measurement of an asset (e.g. metric "clip" = 0.31)."""

    __tablename__ = "scores"
    # One value per asset and metric: a critique resumed after a crash must not score an asset twice.
    __table_args__ = (UniqueConstraint("asset_id", "metric"),)

    id: Mapped[str] = _id()
    asset_id: Mapped[str] = _fk("assets.id", nullable=False, index=True)
    run_id: Mapped[str | None] = _fk("runs.id")
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    model_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    created_at: Mapped[datetime] = _created()


class Entity(Base):
    """Something that must look the same across scenes, such as a character."""

    __tablename__ = "entities"

    id: Mapped[str] = _id()
    session_id: Mapped[str | None] = _fk("sessions.id")
    run_id: Mapped[str | None] = _fk("runs.id")
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text)
    first_asset_id: Mapped[str | None] = _fk("assets.id")
    created_at: Mapped[datetime] = _created()


class CastEntity(Base):
    """A banked character, style or place of one API key, reused by later stories of that key
    (`kind` is one of CAST_KINDS). A character's reference picture is kept in the asset store by sha256."""

    __tablename__ = "cast_entities"

    id: Mapped[str] = _id()
    api_key_id: Mapped[str | None] = _fk("api_keys.id", index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    look: Mapped[str] = mapped_column(Text, default="")
    voice: Mapped[str | None] = mapped_column(String(50), nullable=True)
    reference_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class Event(Base):
    """One progress event of a run, kept so a client can replay a stream from any point.

    The integer id increases with every event on every backend: it is the SSE event id.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = _fk("runs.id", nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    created_at: Mapped[datetime] = _created()


class WebhookDelivery(Base):
    """The outbox of signed webhooks: one row per run that asked for one, written with the run's terminal
    event, so a crash can lose neither. `webhook-id` is `msg_<id>`, the same on every retry."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = _id()
    run_id: Mapped[str] = mapped_column(String(32), ForeignKey("runs.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # one of WEBHOOK_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the next attempt is due; a sender that takes a row moves it past its attempt's timeout.
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = _created()
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
