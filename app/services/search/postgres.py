"""PostgreSQL's search backend: the text itself, `lower(body) LIKE '%query%'`, is the exact
answer; a GIN index over a stored bigram tsvector (`search_bigrams`, migration e2b7c4d9a1f3:
every pair of neighbouring letters/digits plus the last one of each run, as SQLite's bigram
index splits) only makes it fast. A query becomes its own pieces ANDed (a 1-character
run is a prefix), split by the database itself (hearth_bigram_query) so the text and the
query always agree; a query without letters or digits is a plain scan, as on SQLite.

The newest matching entries: a common word matches a good share of the newest rows, so the
newest few thousand are read first in id order (cheap: the tsvector is stored); only when
they hold too few matches does the index find them all, in a MATERIALIZED CTE, and the top N
are sorted from those. Either way the planner never walks the whole id index backwards
looking for a rare word (the `ORDER BY … LIMIT` trap)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import Session

# The searched tables with the column only PostgreSQL has (kept out of the ORM models, so
# SQLite's schema and the models stay as they are).
_metadata = sa.MetaData()
documents = sa.Table(
    "customer_search",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text),
    sa.Column("search_bigrams", TSVECTOR),
)
entries = sa.Table(
    "timeline_entry",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text),
    sa.Column("action", sa.String),
    sa.Column("search_bigrams", TSVECTOR),
)
RECENT_ROWS = 4000  # the newest entries read in order before the index is asked


def pieces(query: str, bind) -> str | None:
    """The tsquery text of `query` (None: no letters or digits, so no index can help),
    asked of the database once per server and query."""
    engine = bind.engine if isinstance(bind, sa.Connection) else bind.get_bind()
    key = (engine.url.render_as_string(hide_password=True), query)
    if key not in _PIECES:
        if len(_PIECES) >= 4096:
            _PIECES.clear()
        _PIECES[key] = bind.execute(sa.select(sa.func.hearth_bigram_query(query))).scalar()
    return _PIECES[key]


_PIECES: dict[tuple[str, str], str | None] = {}


def _contains(table: sa.Table, query: str, tokens: str | None):
    # lower() LIKE, not ILIKE: the pieces are lower-cased by the same lower().
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    condition = sa.func.lower(table.c.body).like(f"%{escaped}%", escape="\\")
    if tokens:
        match = table.c.search_bigrams.op("@@")(sa.cast(sa.literal(tokens, sa.Text), TSQUERY))
        condition = sa.and_(match, condition)
    return condition


def _searched(table: sa.Table = entries):
    # Campaign mails are out (their tsvector is NULL too).
    return table.c.action.is_distinct_from("campaign")


def customer_ids(query: str, bind):
    return sa.select(documents.c.id).where(_contains(documents, query, pieces(query, bind)))


def entry_ids(query: str, bind):
    return sa.select(entries.c.id).where(
        _contains(entries, query, pieces(query, bind)), _searched()
    )


def newest_entry_ids(session: Session, query: str, count: int, *, recent_rows: int = RECENT_ROWS):
    """A SELECT of the ids of the newest `count` matching entries (campaign mails never): from
    the newest `recent_rows` entries when they hold `count` matches, else from all of them
    through the index. One statement: the second part is skipped (a one-time filter) when
    the first found enough."""
    tokens = pieces(query, session)
    newest_rows = (
        sa.select(entries.c.id, entries.c.body, entries.c.action, entries.c.search_bigrams)
        .order_by(entries.c.id.desc())
        .limit(recent_rows)
        .subquery("newest_rows")
    )
    recent = (
        sa.select(newest_rows.c.id)
        .where(_contains(newest_rows, query, tokens), _searched(newest_rows))
        .order_by(newest_rows.c.id.desc())
        .limit(count)
        .cte("recent_matches")
        .prefix_with("MATERIALIZED")
    )
    enough = sa.select(sa.func.count()).select_from(recent).scalar_subquery() >= count
    matching = (
        sa.select(entries.c.id)
        .where(_contains(entries, query, tokens), _searched(), sa.not_(enough))
        .cte("all_matches")
        .prefix_with("MATERIALIZED")
    )
    older = sa.select(matching.c.id).order_by(matching.c.id.desc()).limit(count).subquery()
    return sa.union_all(sa.select(recent.c.id).where(enough), sa.select(older.c.id))


def rebuild(session: Session) -> None:
    """Recomputes every stored tsvector (as the triggers would) and rebuilds the indexes."""
    from app.db import ddl

    for table in ("customer_search", "timeline_entry"):
        session.execute(sa.text(ddl.fill_bigrams(table, -(2**31), 2**31 - 1)))
    for name in ddl.BIGRAM_INDEXES:
        session.execute(sa.text(f"REINDEX INDEX {name}"))


def purge(session: Session, step_pages: int = 1000) -> None:
    """After an erasure: VACUUM the tables that held the words, so their dead rows (and
    index entries) are cleared out rather than left until autovacuum comes by."""
    session.commit()
    engine = session.get_bind()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("timeline_entry", "timeline_revision", "customer_search", "customer",
                      "family_member", "important_date", "custom_field_value", "reminder",
                      "delivery"):  # fmt: skip
            connection.exec_driver_sql(f"VACUUM {table}")
