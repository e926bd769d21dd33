"""the owner's own names for levels A/B/C

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-11-24 06:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None


def upgrade():
    for level in "abc":
        op.add_column("shop", sa.Column(f"level_{level}_name", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("shop") as batch_op:
        for level in "abc":
            batch_op.drop_column(f"level_{level}_name")
