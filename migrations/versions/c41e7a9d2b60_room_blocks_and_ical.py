"""rooms closed for dates, booking sites' calendars as blocks, a secret iCal export per room

Revision ID: c41e7a9d2b60
Revises: 6c7e004f0a52
Create Date: 2026-12-07 16:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c41e7a9d2b60"
down_revision = '6c7e004f0a52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "room_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_fetched_at", sa.DateTime(), nullable=True),
        sa.Column("last_ok_at", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_events", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.id"], name=op.f("fk_room_feed_room_id_room"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_feed")),
    )
    op.create_index(op.f("ix_room_feed_room_id"), "room_feed", ["room_id"])
    op.create_table(
        "room_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.id"], name=op.f("fk_room_block_room_id_room"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["room_feed.id"], name=op.f("fk_room_block_feed_id_room_feed"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_room_block_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_block")),
    )
    op.create_index(
        "ix_room_block_room_days", "room_block", ["room_id", "starts_on", "ends_on"]
    )
    op.create_index(op.f("ix_room_block_feed_id"), "room_block", ["feed_id"])
    op.create_table(
        "room_export",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.id"], name=op.f("fk_room_export_room_id_room"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_room_export")),
        sa.UniqueConstraint("token", name=op.f("uq_room_export_token")),
    )


def downgrade():
    op.drop_table("room_export")
    op.drop_index(op.f("ix_room_block_feed_id"), table_name="room_block")
    op.drop_index("ix_room_block_room_days", table_name="room_block")
    op.drop_table("room_block")
    op.drop_index(op.f("ix_room_feed_room_id"), table_name="room_feed")
    op.drop_table("room_feed")
