"""customer merges: a merged record's tombstone pointer, merges kept for undo, pairs marked
"not the same person"

Revision ID: a8c3e5f7b9d1
Revises: e3a1c5b7d9f2
Create Date: 2026-12-07 19:30:00

The new customer column is a plain integer added in place (no batch copy of the customer
table on SQLite: a rebuild would fire every foreign key that points at it).
"""

import sqlalchemy as sa
from alembic import op

revision = "a8c3e5f7b9d1"
down_revision = "e3a1c5b7d9f2"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customer", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_customer_merged_into_id"), "customer", ["merged_into_id"])
    op.create_table(
        "customer_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("other_name", sa.String(length=120), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=True),
        sa.Column("survivor_before", sa.JSON(), nullable=True),
        sa.Column("survivor_after", sa.JSON(), nullable=True),
        sa.Column("other_before", sa.JSON(), nullable=True),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["merged_by_id"], ["user.id"], name=op.f("fk_customer_merge_merged_by_id_user"), ondelete="SET NULL"),  # noqa: E501
        sa.ForeignKeyConstraint(["undone_by_id"], ["user.id"], name=op.f("fk_customer_merge_undone_by_id_user"), ondelete="SET NULL"),  # noqa: E501
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merge")),
    )
    op.create_index(op.f("ix_customer_merge_survivor_id"), "customer_merge", ["survivor_id"])
    op.create_index(op.f("ix_customer_merge_other_id"), "customer_merge", ["other_id"])
    op.create_table(
        "not_duplicate",
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["marked_by_id"], ["user.id"], name=op.f("fk_not_duplicate_marked_by_id_user"), ondelete="SET NULL"),  # noqa: E501
        sa.PrimaryKeyConstraint("first_id", "second_id", name=op.f("pk_not_duplicate")),
    )


def downgrade():
    op.drop_table("not_duplicate")
    op.drop_index(op.f("ix_customer_merge_other_id"), table_name="customer_merge")
    op.drop_index(op.f("ix_customer_merge_survivor_id"), table_name="customer_merge")
    op.drop_table("customer_merge")
    op.drop_index(op.f("ix_customer_merged_into_id"), table_name="customer")
    op.drop_column("customer", "merged_into_id")
