"""SQLite's search backend: FTS5 tables kept in sync by triggers (migration b9b594632373).

SQLite's trigram tokenizer matches nothing for queries under 3 characters, and on SQLite
3.40 `LIKE` against a trigram table is wrong, so short queries go to a second, contentless
FTS5 table whose tokens are every pair of neighbouring letters/digits plus the last one of
each run (app.db.bigrams.bigrams): a 2-character query is one exact token, a
1-character query a prefix token.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import TimelineEntry
from app.services.search import SHORT, customer_search, fts_metadata, like

customer_tri = sa.Table(
    "customer_tri", fts_metadata, sa.Column("rowid", sa.Integer), sa.Column("body", sa.Text)
)
customer_bi = sa.Table(
    "customer_bi", fts_metadata, sa.Column("rowid", sa.Integer), sa.Column("body", sa.Text)
)
note_tri = sa.Table(
    "note_tri", fts_metadata, sa.Column("rowid", sa.Integer), sa.Column("body", sa.Text)
)
note_bi = sa.Table(
    "note_bi", fts_metadata, sa.Column("rowid", sa.Integer), sa.Column("body", sa.Text)
)
INDEX_TABLES = ("customer_tri", "customer_bi", "note_tri", "note_bi")


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _match(table: sa.Table, expression: str):
    """`<fts table> MATCH :expression`; the table name is ours, the user's text is a parameter."""
    return sa.literal_column(table.name).op("MATCH")(sa.bindparam(None, expression, type_=sa.Text))


def _matching_ids(query: str, *, tri, bi, content_column, id_column):
    """A SELECT of rowids whose text contains `query` (case-insensitive)."""
    if len(query) >= SHORT:
        return sa.select(tri.c.rowid).where(_match(tri, _phrase(query)))
    lowered = query.lower()
    if all(char.isalnum() for char in lowered):
        token = _phrase(lowered) + ("*" if len(lowered) == 1 else "")
        return sa.select(bi.c.rowid).where(_match(bi, token))
    # 1–2 characters with punctuation or a space: rare, so a plain scan is fine.
    return sa.select(id_column).where(like(content_column, query))


def customer_ids(query: str, _bind=None):
    return _matching_ids(
        query, tri=customer_tri, bi=customer_bi,
        content_column=customer_search.c.body, id_column=customer_search.c.id,
    )  # fmt: skip


def entry_ids(query: str, _bind=None):
    return _matching_ids(
        query, tri=note_tri, bi=note_bi,
        content_column=TimelineEntry.body, id_column=TimelineEntry.id,
    )  # fmt: skip


def newest_entry_ids(_session: Session, query: str, count: int):
    """A SELECT of the newest `count` matching entry ids: FTS5 hands rowids over in order,
    so the newest come first and the scan stops early."""
    newest = entry_ids(query)
    return newest.order_by(newest.selected_columns[0].desc()).limit(count)


def rebuild(session: Session) -> None:
    """Refills the FTS tables from customer_search and the timeline (not campaign mails,
    as the triggers do; see migration c5d6e7f8a9b0)."""
    for statement in (
        "INSERT INTO note_tri(note_tri) VALUES ('delete-all')",
        "INSERT INTO note_tri(rowid, body) SELECT id, body FROM timeline_entry"
        " WHERE action IS NOT 'campaign'",
        "INSERT INTO note_bi(note_bi) VALUES ('delete-all')",
        "INSERT INTO note_bi(rowid, body) SELECT id, hearth_bigrams(body) FROM timeline_entry"
        " WHERE action IS NOT 'campaign'",
        "INSERT INTO customer_tri(customer_tri) VALUES ('rebuild')",
        "INSERT INTO customer_bi(customer_bi) VALUES ('delete-all')",
        "INSERT INTO customer_bi(rowid, body) SELECT id, hearth_bigrams(body) FROM customer_search",
    ):
        session.execute(sa.text(statement))


def purge(session: Session, step_pages: int = 1000) -> None:
    """After an erasure: merge the indexes down to one segment each (older segments still
    hold the erased words until merged) and empty the write-ahead log.

    FTS5's 'merge' with a negative page count is an incremental 'optimize': each step is
    its own short transaction, so the web is never kept waiting; a step that changes
    (almost) nothing means the index is fully merged."""
    from app.db import begin_write

    for table in INDEX_TABLES:
        while True:
            begin_write(session)
            connection = session.connection()
            before = connection.exec_driver_sql("SELECT total_changes()").scalar()
            connection.exec_driver_sql(
                f"INSERT INTO {table}({table}, rank) VALUES ('merge', {-abs(int(step_pages))})"
            )
            after = connection.exec_driver_sql("SELECT total_changes()").scalar()
            session.commit()
            if after - before < 2:
                break
    session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
