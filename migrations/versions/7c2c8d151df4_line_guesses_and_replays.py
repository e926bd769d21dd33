"""LINE link codes are kept as keyed hashes (twelve digits now; the old six-digit codes, valid
for 30 minutes, are dropped), wrong codes are counted for the lockout, and applied webhook
events are remembered so a replay is not applied again

Revision ID: 7c2c8d151df4
Revises: f8a9b0c1d2e3
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7c2c8d151df4"
down_revision = "f8a9b0c1d2e3"
branch_labels = None
depends_on = None


def _line_code(key: sa.Column) -> None:
    op.create_table(
        "line_code",
        key,
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint(key.name),
    )
    op.create_index("ix_line_code_customer_id", "line_code", ["customer_id"])


def upgrade():
    # Codes live 30 minutes and only their hash is kept from now on: the table starts empty.
    op.drop_index("ix_line_code_customer_id", "line_code")
    op.drop_table("line_code")
    _line_code(sa.Column("code_hash", sa.String(length=64), nullable=False))
    op.create_table(
        "line_code_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_line_code_failure_at", "line_code_failure", ["at"])
    op.create_index("ix_line_code_failure_user_id_at", "line_code_failure", ["user_id", "at"])
    op.create_table(
        "line_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_line_event_handled_at", "line_event", ["handled_at"])


def downgrade():
    op.drop_index("ix_line_event_handled_at", "line_event")
    op.drop_table("line_event")
    op.drop_index("ix_line_code_failure_user_id_at", "line_code_failure")
    op.drop_index("ix_line_code_failure_at", "line_code_failure")
    op.drop_table("line_code_failure")
    op.drop_index("ix_line_code_customer_id", "line_code")
    op.drop_table("line_code")
    _line_code(sa.Column("code", sa.String(length=12), nullable=False))
