"""tag merges, kept for undo

Revision ID: f4a2b3c5d6e7
Revises: e3f1c2a4b5d6
Create Date: 2026-11-24 05:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f4a2b3c5d6e7'
down_revision = 'e3f1c2a4b5d6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tag_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(length=60), nullable=False),
        sa.Column("source_colour", sa.String(length=20), nullable=False),
        sa.Column("source_is_group", sa.Boolean(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("had_source", sa.Text(), nullable=False),
        sa.Column("gained_target", sa.Text(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["merged_by_id"], ["user.id"], name=op.f("fk_tag_merge_merged_by_id_user"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["target_id"], ["tag.id"], name=op.f("fk_tag_merge_target_id_tag"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_merge")),
    )


def downgrade():
    op.drop_table("tag_merge")
