"""products and purchases: the catalogue and dated purchases (both kinds of shop)

Revision ID: d0e1f2a3b4c5
Revises: c9d0e1f2a3b4
Create Date: 2026-11-24 07:15:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'd0e1f2a3b4c5'
down_revision = 'c9d0e1f2a3b4'
branch_labels = None
depends_on = None


def _bump(expression: str) -> str:
    return (
        f"INSERT INTO page_version (customer_id, version) VALUES ({expression}, 1) "
        "ON CONFLICT (customer_id) DO UPDATE SET version = version + 1;"
    )


def upgrade():
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "purchase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("purchased_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("unit_points", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["entry_id"], ["timeline_entry.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_purchase_customer_day", "purchase", ["customer_id", "purchased_on"])
    op.create_index(
        "ix_purchase_product_day", "purchase", ["product_id", "purchased_on", "customer_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        from app.db import ddl

        for statement in ddl.page_triggers("purchase", "customer_id"):
            op.execute(statement)
        for statement in ddl.page_triggers("product", None):
            op.execute(statement)
    else:
        # The customer page shows purchases: keep its version moving (see c9d0e1f2a3b4).
        for suffix, event, who in (("ai", "INSERT", "NEW"), ("ad", "DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER purchase_page_{suffix} AFTER {event} ON purchase FOR EACH ROW "
                f"BEGIN {_bump(who + '.customer_id')} END"
            )
        op.execute(
            "CREATE TRIGGER purchase_page_au AFTER UPDATE ON purchase FOR EACH ROW BEGIN "
            f"{_bump('NEW.customer_id')} {_bump('OLD.customer_id')} END"
        )
        for suffix, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE")):
            op.execute(
                f"CREATE TRIGGER product_page_{suffix} AFTER {event} ON product FOR EACH ROW "
                f"BEGIN {_bump('0')} END"
            )


def downgrade():
    for table in ("purchase", "product"):
        for suffix in ("ai", "au", "ad"):
            op.get_bind().dialect.name == "sqlite" and op.execute(f"DROP TRIGGER IF EXISTS {table}_page_{suffix}")
    op.drop_index("ix_purchase_product_day", table_name="purchase")
    op.drop_index("ix_purchase_customer_day", table_name="purchase")
    op.drop_table("purchase")
    op.drop_table("product")
