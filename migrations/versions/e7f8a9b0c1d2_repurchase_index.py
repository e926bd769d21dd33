"""an index for the repurchase report: each customer's last day per product, read in order

Revision ID: e7f8a9b0c1d2
Revises: d6e7f8a9b0c1
Create Date: 2026-12-06 23:20:00

"""
from alembic import op

revision = 'e7f8a9b0c1d2'
down_revision = 'd6e7f8a9b0c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_purchase_product_customer_day",
        "purchase",
        ["product_id", "customer_id", "purchased_on", "quantity"],
    )


def downgrade():
    op.drop_index("ix_purchase_product_customer_day", table_name="purchase")
