"""indexes for the summary: birthday month-day, level with visits

Revision ID: 1722479a90cf
Revises: dac57983bcc2
Create Date: 2026-11-22 11:28:52.455533

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1722479a90cf'
down_revision = 'dac57983bcc2'
branch_labels = None
depends_on = None


def upgrade():
    # Plain index statements (a batch could copy the table).
    op.drop_index("ix_customer_level", table_name="customer")
    op.create_index("ix_customer_level", "customer", ["level", "archived_at", "last_visit_at"])
    from app.db import month_day_sql

    op.execute(
        "CREATE INDEX ix_customer_birthday_md ON customer "
        f"({month_day_sql('birthday', op.get_bind().dialect.name)})"
    )


def downgrade():
    op.execute("DROP INDEX ix_customer_birthday_md")
    op.drop_index("ix_customer_level", table_name="customer")
    op.create_index("ix_customer_level", "customer", ["level"])
