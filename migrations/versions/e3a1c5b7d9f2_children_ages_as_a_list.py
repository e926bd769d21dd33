"""a stay's children's ages are a JSON list of whole numbers instead of the text typed ("6, 9",
6、9): read once when written, not parsed on every read. Text that is not ages ("six") becomes
an empty list and is kept, as typed, in the stay's note

Revision ID: e3a1c5b7d9f2
Revises: e3a1c5d7f9b2
Create Date: 2026-12-07 19:40:00

Swapped in place as in d7d9bf09e7fd (a new column, filled, the old dropped, the new renamed),
so the stay table is not rebuilt (its foreign keys and, on PostgreSQL, the exclusion
constraint stay as they are). Downgrade writes the list back as "6, 9"; notes keep what
upgrade added to them.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "e3a1c5b7d9f2"
down_revision = "e3a1c5d7f9b2"
branch_labels = None
depends_on = None

LIST = sa.JSON(none_as_null=True)
OLD = sa.String(length=60)
OLDEST_CHILD = 17  # as the stay form's rule (services/stays.MAX_CHILD_AGE)
NOTE_LENGTH = 500
NOTE_WORDS = {"zh_Hant": "孩子年齡（原文）：", "en": "Children's ages as typed: "}


def _ages(text: str | None) -> list[int] | None:
    """[6, 9] from "6, 9" / 6、9 / 6，9 / 6 9 / 6歲, 9歲; None when the text is not ages."""
    parts = re.split(r"[,，、;；/\s]+", (text or "").replace("歲", " "))
    ages = [part for part in parts if part]
    if not all(part.isdigit() and int(part) <= OLDEST_CHILD for part in ages):
        return None
    return [int(part) for part in ages]


def _note_words(connection) -> str:
    locale = connection.execute(sa.text("SELECT default_locale FROM shop LIMIT 1")).scalar()
    return NOTE_WORDS.get(locale or "zh_Hant", NOTE_WORDS["zh_Hant"])


def _with_note(note: str | None, typed: str, words: str) -> str:
    line = f"{words}{typed.strip()}"
    note = (note or "").strip()
    return (f"{note} · {line}" if note else line)[:NOTE_LENGTH]


def upgrade():
    connection = op.get_bind()
    op.add_column("stay", sa.Column("children_ages_swap", LIST, nullable=True))
    stay = sa.table("stay", sa.column("id"), sa.column("children_ages", OLD), sa.column("note"),
                    sa.column("children_ages_swap", LIST))  # fmt: skip
    rows = connection.execute(
        sa.select(stay.c.id, stay.c.children_ages, stay.c.note).where(
            stay.c.children_ages.isnot(None), stay.c.children_ages != ""
        )
    ).all()
    words = _note_words(connection) if rows else ""
    values = []
    for row_id, typed, note in rows:
        ages = _ages(typed)
        if ages is None:  # not ages: kept where the desk will read it
            values.append({"row_id": row_id, "ages": [], "note": _with_note(note, typed, words)})
        else:
            values.append({"row_id": row_id, "ages": ages, "note": note})
    if values:
        connection.execute(
            sa.update(stay)
            .where(stay.c.id == sa.bindparam("row_id"))
            .values(children_ages_swap=sa.bindparam("ages", type_=LIST),
                    note=sa.bindparam("note")),
            values,
        )  # fmt: skip
    op.drop_column("stay", "children_ages")
    op.execute('ALTER TABLE "stay" RENAME COLUMN children_ages_swap TO children_ages')


def downgrade():
    connection = op.get_bind()
    op.add_column("stay", sa.Column("children_ages_swap", OLD, nullable=False, server_default=""))
    stay = sa.table("stay", sa.column("id"), sa.column("children_ages", LIST),
                    sa.column("children_ages_swap", OLD))  # fmt: skip
    rows = connection.execute(
        sa.select(stay.c.id, stay.c.children_ages).where(stay.c.children_ages.isnot(None))
    ).all()
    values = [{"row_id": row_id, "text": ", ".join(str(age) for age in ages or [])}
              for row_id, ages in rows]  # fmt: skip
    if values:
        connection.execute(
            sa.update(stay)
            .where(stay.c.id == sa.bindparam("row_id"))
            .values(children_ages_swap=sa.bindparam("text")),
            values,
        )
    op.drop_column("stay", "children_ages")
    op.execute('ALTER TABLE "stay" RENAME COLUMN children_ages_swap TO children_ages')
