"""short ordered lists are JSON lists instead of comma-separated text: a reminder rule's levels,
a campaign's channels, an alert's keywords, a tag merge's customer and teacher ids

Revision ID: d7d9bf09e7fd
Revises: d76cf09f8dcb
Create Date: 2026-12-07 16:30:00

Each column is swapped in place on both databases: a new JSON column is added, filled from
the text, the text column dropped and the new one renamed. No table is rebuilt (on SQLite a
batch rebuild would drop the old table, firing every foreign key that points at it).
"""

import sqlalchemy as sa
from alembic import op

revision = "d7d9bf09e7fd"
down_revision = "d76cf09f8dcb"
branch_labels = None
depends_on = None


def _texts(text):
    return [part for part in (text or "").split(",") if part]


def _ids(text):
    return [int(part) for part in (text or "").split(",") if part.strip().isdigit()]


def _keywords(text):
    return _texts(text) or None


def _channels(text):
    return _texts(text) or ["email"]


LIST = sa.JSON(none_as_null=True)

# table, column, old type, old "NOT NULL with this default" (None: nullable), text → list
COLUMNS = (
    ("reminder_rule", "levels", sa.String(length=10), "", _texts),
    ("campaign", "channels", sa.String(length=40), "email", _channels),
    ("timeline_entry", "alert_keywords", sa.String(length=200), None, _keywords),
    ("tag_merge", "had_source", sa.Text(), "", _ids),
    ("tag_merge", "gained_target", sa.Text(), "", _ids),
    ("tag_merge", "teachers_had_source", sa.Text(), "", _ids),
    ("tag_merge", "teachers_gained_target", sa.Text(), "", _ids),
)


def _swap(table: str, column: str, types: tuple, convert, default=None) -> None:
    """Replaces `column` (of types[0]) by a column of types[1] holding `convert(old value)`."""
    old_type, new_type = types
    connection = op.get_bind()
    temporary = f"{column}_swap"
    nullable = default is None
    op.add_column(
        table,
        sa.Column(temporary, new_type, nullable=nullable, server_default=default),
    )
    old = sa.table(table, sa.column("id"), sa.column(column, old_type))
    new = sa.table(table, sa.column("id"), sa.column(temporary, new_type))
    rows = connection.execute(sa.select(old.c.id, old.c[column]).where(old.c[column].isnot(None)))
    values = [{"row_id": row_id, "value": convert(value)} for row_id, value in rows]
    if values:
        connection.execute(
            sa.update(new)
            .where(new.c.id == sa.bindparam("row_id"))
            .values({temporary: sa.bindparam("value", type_=new_type)}),
            values,
        )
    op.drop_column(table, column)
    op.execute(f'ALTER TABLE "{table}" RENAME COLUMN {temporary} TO {column}')


def upgrade():
    for table, column, old_type, _default, convert in COLUMNS:
        _swap(table, column, (old_type, LIST), convert)


def _joined(items):
    return ",".join(str(item) for item in items or [])


def downgrade():
    for table, column, old_type, default, _convert in COLUMNS:
        convert = _joined if default is not None else _joined_or_none
        _swap(table, column, (LIST, old_type), convert, default)


def _joined_or_none(items):
    return _joined(items) or None
