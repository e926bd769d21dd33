"""PostgreSQL's search backend: the text itself, `lower(body) LIKE '%query%'`, which is the
exact answer; the indexes (app.db.ddl.search_indexes) only make it fast — pg_trgm's GIN
index for 3+ characters, and for 1–2 characters (a Chinese name, 花生) a GIN index over
every 1- and 2-character piece of the text (hearth_grams), which pg_trgm cannot serve."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.models import TimelineEntry
from app.services.search import SHORT, customer_search


def _contains(column, query: str):
    lowered = sa.func.lower(column)
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    condition = lowered.like(f"%{escaped}%", escape="\\")
    if len(query) < SHORT:
        grams = sa.func.hearth_grams(column, type_=ARRAY(sa.Text))
        condition = sa.and_(grams.contains(sa.cast([query.lower()], ARRAY(sa.Text))), condition)
    return condition


def customer_ids(query: str):
    return sa.select(customer_search.c.id).where(_contains(customer_search.c.body, query))


def entry_ids(query: str):
    # The same condition as the partial indexes, so they are used (campaign mails are out).
    return sa.select(TimelineEntry.id).where(
        _contains(TimelineEntry.body, query),
        TimelineEntry.action.is_distinct_from("campaign"),
    )


def rebuild(session: Session) -> None:
    """The indexes follow the tables by themselves; rebuilding them is a REINDEX."""
    for name in (
        "ix_customer_search_tri", "ix_customer_search_grams",
        "ix_timeline_entry_tri", "ix_timeline_entry_grams",
    ):  # fmt: skip
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
