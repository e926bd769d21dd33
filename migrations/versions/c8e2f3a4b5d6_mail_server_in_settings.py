"""The mail server in Settings → Mail: host, port, security, login and a sealed password
(empty host: instance/config.py's MAIL_SERVER as before)

Revision ID: c8e2f3a4b5d6
Revises: b7d1e2f3a4c5
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "c8e2f3a4b5d6"
down_revision = "b7d1e2f3a4c5"
branch_labels = None
depends_on = None

COLUMNS = (
    ("mail_host", sa.String(253)),
    ("mail_port", sa.Integer()),
    ("mail_security", sa.String(10)),
    ("mail_username", sa.String(254)),
    ("mail_password", sa.Text()),  # sealed (app.models.sealed)
)


def upgrade():
    for name, type_ in COLUMNS:
        op.add_column("shop", sa.Column(name, type_, nullable=True))


def downgrade():
    for name, _type in reversed(COLUMNS):
        op.drop_column("shop", name)  # SQLite 3.35+ and PostgreSQL, no table copy
