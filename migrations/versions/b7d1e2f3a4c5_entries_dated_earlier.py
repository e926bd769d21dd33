"""Timeline entries dated earlier than written: when they were written (recorded_at)

Revision ID: b7d1e2f3a4c5
Revises: afa4fef6da38
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d1e2f3a4c5"
down_revision = "afa4fef6da38"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (a batch copy would drop the search triggers).
    op.add_column("timeline_entry", sa.Column("recorded_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("timeline_entry", "recorded_at")  # SQLite 3.35+ and PostgreSQL
