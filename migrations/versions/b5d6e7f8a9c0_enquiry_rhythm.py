"""enquiries' follow-up rhythm in the shop's settings: after how many quiet days a hot
enquiry returns to its owner's My day, and how many hours make getting back "too close"

Revision ID: b5d6e7f8a9c0
Revises: a1c2e3f4b5d6
Create Date: 2026-12-07 20:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b5d6e7f8a9c0"
down_revision = "a1c2e3f4b5d6"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "shop", sa.Column("enquiry_quiet_days", sa.Integer(), nullable=False, server_default="3")
    )
    op.add_column(
        "shop",
        sa.Column("enquiry_min_gap_hours", sa.Integer(), nullable=False, server_default="20"),
    )


def downgrade():
    op.drop_column("shop", "enquiry_min_gap_hours")  # SQLite 3.35+ and PostgreSQL, no copy
    op.drop_column("shop", "enquiry_quiet_days")
