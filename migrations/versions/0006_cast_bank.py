"""The cast bank: characters, styles and places of an API key, reused across sessions (issue 15).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cast_entities",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("api_key_id", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("look", sa.Text(), nullable=False),
        sa.Column("voice", sa.String(50), nullable=True),
        sa.Column("reference_sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], name="fk_cast_entities_api_key_id_api_keys"),
        sa.PrimaryKeyConstraint("id", name="pk_cast_entities"),
    )
    op.create_index("ix_cast_entities_api_key_id", "cast_entities", ["api_key_id"])


def downgrade() -> None:
    op.drop_index("ix_cast_entities_api_key_id", table_name="cast_entities")
    op.drop_table("cast_entities")
