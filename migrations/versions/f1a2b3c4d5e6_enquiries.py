"""enquiries: who asked for what (in the shop's terms), source, budget, confidence, expected
month, stage, hot, next follow-up, who looks after it; each time the shop got back to them;
the owner's list of reasons an enquiry was lost

Revision ID: f1a2b3c4d5e6
Revises: a8c3e5f7b9d1
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f1a2b3c4d5e6"
down_revision = "a8c3e5f7b9d1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "enquiry_lost_reason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "enquiry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("wants", sa.Text(), nullable=False),
        sa.Column("wanted_from", sa.Date(), nullable=True),
        sa.Column("wanted_to", sa.Date(), nullable=True),
        sa.Column("adults", sa.Integer(), nullable=True),
        sa.Column("children", sa.Integer(), nullable=True),
        sa.Column("room_wanted", sa.String(length=60), nullable=False),
        sa.Column("child_grade", sa.String(length=30), nullable=False),
        sa.Column("start_month", sa.Date(), nullable=True),
        sa.Column("trial_on", sa.Date(), nullable=True),
        sa.Column("budget", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("expected_month", sa.Date(), nullable=True),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("hot", sa.Boolean(), nullable=False),
        sa.Column("hot_since", sa.DateTime(), nullable=True),
        sa.Column("next_follow_up", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("lost_reason_id", sa.Integer(), nullable=True),
        sa.Column("lost_note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["lost_reason_id"], ["enquiry_lost_reason.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_enquiry_customer_id", "enquiry", ["customer_id"])
    op.create_index("ix_enquiry_created_at", "enquiry", ["created_at"])
    op.create_index("ix_enquiry_stage", "enquiry", ["stage", "hot", "next_follow_up"])
    op.create_index("ix_enquiry_owner", "enquiry", ["owner_id", "stage"])
    op.create_index("ix_enquiry_expected", "enquiry", ["expected_month", "stage"])
    op.create_table(
        "enquiry_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["enquiry_id"], ["enquiry.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_enquiry_contact_enquiry_id", "enquiry_contact", ["enquiry_id"])


def downgrade():
    op.drop_table("enquiry_contact")
    op.drop_table("enquiry")
    op.drop_table("enquiry_lost_reason")
