"""a customer's consents are rows (customer_consent: purpose, how, when) instead of
comma-separated text in customer.consent_purposes

Revision ID: e3a1c5d7f9b2
Revises: d7d9bf09e7fd
Create Date: 2026-12-07 19:30:00

The text column is dropped in place (SQLite 3.35+ and PostgreSQL), no table is rebuilt.
"""

import sqlalchemy as sa
from alembic import op

revision = "e3a1c5d7f9b2"
down_revision = "d7d9bf09e7fd"
branch_labels = None
depends_on = None

PURPOSES = ("marketing", "service")


def upgrade():
    op.create_table(
        "customer_consent",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("given_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "purpose"),
    )
    for purpose in PURPOSES:
        op.execute(
            "INSERT INTO customer_consent (customer_id, purpose, method, given_at) "
            f"SELECT id, '{purpose}', consent_method, consent_given_at FROM customer "
            f"WHERE ',' || consent_purposes || ',' LIKE '%,{purpose},%'"
        )
    op.drop_column("customer", "consent_purposes")


def downgrade():
    op.add_column(
        "customer",
        sa.Column("consent_purposes", sa.String(length=60), nullable=False, server_default=""),
    )
    for purpose in PURPOSES:
        op.execute(
            "UPDATE customer SET consent_purposes = CASE WHEN consent_purposes = '' "
            f"THEN '{purpose}' ELSE consent_purposes || ',{purpose}' END "
            "WHERE id IN (SELECT customer_id FROM customer_consent "
            f"WHERE purpose = '{purpose}')"
        )
    op.drop_table("customer_consent")
