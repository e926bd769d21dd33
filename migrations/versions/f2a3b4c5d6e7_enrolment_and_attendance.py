"""enrolment and attendance: an after-school centre's days as dated records

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-11-24 07:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'f2a3b4c5d6e7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None


def _bump(expression: str) -> str:
    return (
        f"INSERT INTO page_version (customer_id, version) VALUES ({expression}, 1) "
        "ON CONFLICT (customer_id) DO UPDATE SET version = version + 1;"
    )


def upgrade():
    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=60), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_enrolment_customer_id", "enrolment", ["customer_id"])
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(), nullable=True),
        sa.Column("absence_reason", sa.String(length=200), nullable=False),
        sa.Column("picked_up_by_id", sa.Integer(), nullable=True),
        sa.Column("picked_up_by_other", sa.String(length=80), nullable=False),
        sa.Column("unexpected_pickup", sa.Boolean(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["picked_up_by_id"], ["family_member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["entry_id"], ["timeline_entry.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "day", name="uq_attendance_child_day"),
    )
    op.create_index("ix_attendance_day", "attendance", ["day", "status"])
    if op.get_bind().dialect.name == "postgresql":
        from app.db import ddl

        for statement in ddl.page_triggers("enrolment", "customer_id"):
            op.execute(statement)
        for statement in ddl.page_triggers("attendance", "customer_id"):
            op.execute(statement)
    else:
        for table in ("enrolment", "attendance"):
            for suffix, event, who in (("ai", "INSERT", "NEW"), ("ad", "DELETE", "OLD")):
                op.execute(
                    f"CREATE TRIGGER {table}_page_{suffix} AFTER {event} ON {table} FOR EACH ROW "
                    f"BEGIN {_bump(who + '.customer_id')} END"
                )
            op.execute(
                f"CREATE TRIGGER {table}_page_au AFTER UPDATE ON {table} FOR EACH ROW BEGIN "
                f"{_bump('NEW.customer_id')} {_bump('OLD.customer_id')} END"
            )


def downgrade():
    for table in ("attendance", "enrolment"):
        for suffix in ("ai", "au", "ad"):
            op.get_bind().dialect.name == "sqlite" and op.execute(f"DROP TRIGGER IF EXISTS {table}_page_{suffix}")
    op.drop_index("ix_attendance_day", table_name="attendance")
    op.drop_table("attendance")
    op.drop_index("ix_enrolment_customer_id", table_name="enrolment")
    op.drop_table("enrolment")
