"""campaign base URL: where unsubscribe links point when the shop set no public address

Revision ID: e3f1c2a4b5d6
Revises: d542ea3bc2ab
Create Date: 2026-11-24 04:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e3f1c2a4b5d6'
down_revision = 'd542ea3bc2ab'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (a batch would copy the table).
    op.add_column("campaign", sa.Column("base_url", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.drop_column("base_url")
