"""imports match on phone only when chosen

Revision ID: a7b8c9d0e1f2
Revises: f4a2b3c5d6e7
Create Date: 2026-11-24 05:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7b8c9d0e1f2'
down_revision = 'f4a2b3c5d6e7'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "import_batch",
        sa.Column("match_phone", sa.Boolean(), nullable=False, server_default="0"),
    )


def downgrade():
    with op.batch_alter_table("import_batch") as batch_op:
        batch_op.drop_column("match_phone")
