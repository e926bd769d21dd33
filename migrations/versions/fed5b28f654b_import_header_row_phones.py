"""imports: the header row the staff chose (a title row above it is left out) and their
choice for the same person twice in a sheet; every phone's digits as Taiwan dials them
(+886 912-345-678 and 912345678 are kept as 0912345678, so search finds either spelling)

Revision ID: fed5b28f654b
Revises: a4c7e9d2b1f0
Create Date: 2026-12-07 19:30:00

"""

import re

import sqlalchemy as sa
from alembic import op

revision = "fed5b28f654b"
down_revision = "a4c7e9d2b1f0"
branch_labels = None
depends_on = None


def _normal_phone(text):
    """customers.normal_phone as of this revision (a migration does not import the app)."""
    text = str(text).strip()
    if re.fullmatch(r"\+?[\d\s\-]+\.0+", text):
        text = text.split(".", 1)[0]
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if digits.startswith("886") and 8 <= len(digits) - 3 <= 10:
        rest = digits[3:]
        return rest if rest.startswith("0") else "0" + rest
    if len(digits) == 9 and digits.startswith("9"):
        return "0" + digits
    return digits


def upgrade():
    # Plain ADD COLUMN on both databases (a batch would copy the table).
    op.add_column("import_batch", sa.Column("header_row", sa.Integer(), nullable=True))
    op.add_column("import_batch", sa.Column("row_choices", sa.JSON(), nullable=True))
    bind = op.get_bind()
    customer = sa.table(
        "customer", sa.column("id", sa.Integer), sa.column("phone", sa.String),
        sa.column("phone_digits", sa.String),
    )  # fmt: skip
    rows = bind.execute(
        sa.select(customer.c.id, customer.c.phone, customer.c.phone_digits).where(
            customer.c.phone.is_not(None)
        )
    ).all()
    for customer_id, phone, digits in rows:
        normal = _normal_phone(phone)
        if normal != digits:
            bind.execute(
                sa.update(customer).where(customer.c.id == customer_id).values(phone_digits=normal)
            )


def downgrade():
    op.drop_column("import_batch", "row_choices")  # SQLite 3.35+ and PostgreSQL, no table copy
    op.drop_column("import_batch", "header_row")
