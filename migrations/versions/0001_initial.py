"""Initial schema: api keys, sessions, messages, runs, steps, assets, scores, entities.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out by hand (not imported from memory.tables) so this revision never changes
# when the models move on; a test checks that upgrade-to-head matches the models.
TABLES = ("api_keys", "sessions", "runs", "messages", "steps", "assets", "scores", "entities")


def _id() -> sa.Column:
    return sa.Column("id", sa.String(32), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _ref(table: str, column: str, target: str, nullable: bool = True) -> list[sa.schema.SchemaItem]:
    fk = sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")
    return [sa.Column(column, sa.String(32), nullable=nullable), fk]


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        _pk("api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "sessions",
        _id(),
        *_ref("sessions", "api_key_id", "api_keys"),
        sa.Column("title", sa.String(500), nullable=True),
        _ts("created_at"),
        _pk("sessions"),
    )
    op.create_table(
        "runs",
        _id(),
        *_ref("runs", "session_id", "sessions"),
        *_ref("runs", "api_key_id", "api_keys"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("profile", sa.String(50), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("plan", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("output_dir", sa.String(1024), nullable=True),
        _ts("created_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        _pk("runs"),
    )
    op.create_table(
        "messages",
        _id(),
        *_ref("messages", "session_id", "sessions", nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        *_ref("messages", "run_id", "runs"),
        _ts("created_at"),
        _pk("messages"),
    )
    op.create_index("ix_messages_session_id", "messages", ["session_id"])
    op.create_table(
        "steps",
        _id(),
        *_ref("steps", "run_id", "runs", nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(100), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("intent", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        _pk("steps"),
        sa.UniqueConstraint("run_id", "key", name="uq_steps_run_id_key"),
    )
    op.create_index("ix_steps_run_id", "steps", ["run_id"])
    op.create_table(
        "assets",
        _id(),
        *_ref("assets", "run_id", "runs"),
        *_ref("assets", "step_id", "steps"),
        sa.Column("tool", sa.String(100), nullable=True),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("role", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("model_id", sa.String(500), nullable=True),
        sa.Column("model_revision", sa.String(100), nullable=True),
        sa.Column("intent", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        *_ref("assets", "parent_id", "assets"),
        _ts("created_at"),
        _pk("assets"),
    )
    op.create_index("ix_assets_run_id", "assets", ["run_id"])
    op.create_index("ix_assets_sha256", "assets", ["sha256"])
    op.create_table(
        "scores",
        _id(),
        *_ref("scores", "asset_id", "assets", nullable=False),
        *_ref("scores", "run_id", "runs"),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("model_id", sa.String(500), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _ts("created_at"),
        _pk("scores"),
    )
    op.create_index("ix_scores_asset_id", "scores", ["asset_id"])
    op.create_table(
        "entities",
        _id(),
        *_ref("entities", "session_id", "sessions"),
        *_ref("entities", "run_id", "runs"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *_ref("entities", "first_asset_id", "assets"),
        _ts("created_at"),
        _pk("entities"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes too; reverse order keeps foreign keys satisfied.
    for table in reversed(TABLES):
        op.drop_table(table)
