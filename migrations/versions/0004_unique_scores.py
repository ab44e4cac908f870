"""Crash windows: one score per asset and metric (a critique resumed after a crash scored twice).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Duplicates written before this revision: the first score of each asset and metric is kept
    # (later ones were the same measurement repeated by a resumed run).
    op.execute(sa.text(
        "DELETE FROM scores WHERE id IN (SELECT s.id FROM scores s JOIN scores f "
        "ON f.asset_id = s.asset_id AND f.metric = s.metric "
        "AND (f.created_at < s.created_at OR (f.created_at = s.created_at AND f.id < s.id)))"))
    with op.batch_alter_table("scores") as batch:
        batch.create_unique_constraint("uq_scores_asset_id_metric", ["asset_id", "metric"])


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_constraint("uq_scores_asset_id_metric", type_="unique")
