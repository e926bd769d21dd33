"""rooms and stays: a homestay's guest book as dated records

Revision ID: e1f2a3b4c5d6
Revises: d0e1f2a3b4c5
Create Date: 2026-11-24 07:25:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'e1f2a3b4c5d6'
down_revision = 'd0e1f2a3b4c5'
branch_labels = None
depends_on = None


def _bump(expression: str) -> str:
    return (
        f"INSERT INTO page_version (customer_id, version) VALUES ({expression}, 1) "
        "ON CONFLICT (customer_id) DO UPDATE SET version = version + 1;"
    )


def upgrade():
    op.create_table(
        "room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "stay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("check_in", sa.Date(), nullable=False),
        sa.Column("check_out", sa.Date(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(), nullable=True),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("deposit", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["entry_id"], ["timeline_entry.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stay_customer_in", "stay", ["customer_id", "check_in"])
    op.create_index("ix_stay_check_in", "stay", ["check_in", "status"])
    op.create_index("ix_stay_check_out", "stay", ["check_out", "status"])
    if op.get_bind().dialect.name == "postgresql":
        from app.db import ddl

        for statement in ddl.page_triggers("stay", "customer_id"):
            op.execute(statement)
        for statement in ddl.page_triggers("room", None):
            op.execute(statement)
    else:
        for suffix, event, who in (("ai", "INSERT", "NEW"), ("ad", "DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER stay_page_{suffix} AFTER {event} ON stay FOR EACH ROW "
                f"BEGIN {_bump(who + '.customer_id')} END"
            )
        op.execute(
            "CREATE TRIGGER stay_page_au AFTER UPDATE ON stay FOR EACH ROW BEGIN "
            f"{_bump('NEW.customer_id')} {_bump('OLD.customer_id')} END"
        )
        for suffix, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE")):
            op.execute(
                f"CREATE TRIGGER room_page_{suffix} AFTER {event} ON room FOR EACH ROW "
                f"BEGIN {_bump('0')} END"
            )


def downgrade():
    for table in ("stay", "room"):
        for suffix in ("ai", "au", "ad"):
            op.get_bind().dialect.name == "sqlite" and op.execute(f"DROP TRIGGER IF EXISTS {table}_page_{suffix}")
    op.drop_index("ix_stay_check_out", table_name="stay")
    op.drop_index("ix_stay_check_in", table_name="stay")
    op.drop_index("ix_stay_customer_in", table_name="stay")
    op.drop_table("stay")
    op.drop_table("room")
