"""page_version: moved on by database triggers whenever something a customer page shows
changes (row 0: something every page shows, such as a tag's colour or a staff name)."""

import sqlalchemy as sa

from app.extensions import db

page_version = sa.Table(
    "page_version",
    db.metadata,
    sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)
