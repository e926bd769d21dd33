"""a covering index for reports over a date range of purchases

Revision ID: b4c5d6e7f8a9
Revises: a3b4c5d6e7f8
Create Date: 2026-11-24 07:45:00

"""
from alembic import op

revision = 'b4c5d6e7f8a9'
down_revision = 'a3b4c5d6e7f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_purchase_day",
        "purchase",
        ["purchased_on", "customer_id", "product_id", "quantity", "unit_price"],
    )


def downgrade():
    op.drop_index("ix_purchase_day", table_name="purchase")
