"""Instant search that works for Chinese, on either database.

What is searched is the same on both: a customer's own document (names, member number,
phone also as digits, email, guardians) and the timeline entries except campaign mails;
a query matches text that contains it, ignoring case. How it is found is the backend's:
`fts5` (SQLite: trigram FTS for 3+ characters, a CJK bigram index for 1–2) or `postgres`
(a stored bigram tsvector, split the same way, in a GIN index). The brute-force tests check
both against plain Python.
"""

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import Session, joinedload

from app.db.bigrams import bigrams  # noqa: F401  (re-exported for callers)
from app.models import Customer, FamilyMember, TimelineEntry
from app.services.customers import normal_phone

# Tables that live outside the ORM metadata (created by a migration, not autogenerate).
fts_metadata = sa.MetaData()
customer_search = sa.Table(
    "customer_search",
    fts_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text),
)
# Everything the search migration creates, incl. FTS5 shadow tables (kept out of autogenerate).
FTS_TABLE_PREFIXES = ("customer_search", "customer_tri", "customer_bi", "note_tri", "note_bi")


# Indexes written by hand in migrations (expressions, GIN): autogenerate cannot compare them.
HAND_MADE_INDEXES = {
    "ix_customer_birthday_md", "ix_customer_search_tri", "ix_customer_search_grams",
    "ix_timeline_entry_tri", "ix_timeline_entry_grams",
    "ix_customer_search_bigrams", "ix_timeline_entry_bigrams",
}  # fmt: skip
# PostgreSQL's stored search pieces (migration e2b7c4d9a1f3), outside the models.
HAND_MADE_COLUMNS = {"search_bigrams"}


def include_in_migrations(name, type_, _parent_names) -> bool:
    """Alembic autogenerate hook: the search tables and hand-made indexes are managed by
    hand in their migrations."""
    if type_ == "index" and name in HAND_MADE_INDEXES:
        return False
    if type_ == "column" and name in HAND_MADE_COLUMNS:
        return False
    return not (type_ == "table" and name and name.startswith(FTS_TABLE_PREFIXES))


def include_object_in_migrations(_object, name, type_, _reflected, _compare_to) -> bool:
    """The same for what the models declare (the birthday expression index)."""
    return not (type_ == "index" and name in HAND_MADE_INDEXES)


SHORT = 3  # queries shorter than this use the bigram index
RESULT_LIMIT = 10


INDEXED_CUSTOMER_FIELDS = (
    "display_name",
    "nickname",
    "member_number",
    "phone",
    "phone_digits",
    "email",
)
INDEXED_MEMBER_FIELDS = ("name", "phone", "email")


def customer_document(customer, guardians) -> str:
    """The text a customer is found by: names, member number, phone (also as digits), email,
    and the family members' names and contacts."""
    parts = [getattr(customer, name) for name in INDEXED_CUSTOMER_FIELDS]
    for member in guardians:
        parts.extend(getattr(member, name) for name in INDEXED_MEMBER_FIELDS)
    return "\n".join(part for part in parts if part)


def reindex_customers(connection, customer_ids: set[int]) -> None:
    """Rewrites these customers' search documents (triggers update the FTS tables).

    Core statements on a connection only, so it can run inside the ORM's after_flush.
    """
    if not customer_ids:
        return
    ids = sorted(customer_ids)
    customer_table, member_table = Customer.__table__, FamilyMember.__table__
    customers = {
        row.id: row
        for row in connection.execute(
            sa.select(
                customer_table.c.id, *[customer_table.c[n] for n in INDEXED_CUSTOMER_FIELDS]
            ).where(customer_table.c.id.in_(ids))
        )
    }
    members: dict[int, list] = {}
    for row in connection.execute(
        sa.select(member_table.c.customer_id, *[member_table.c[n] for n in INDEXED_MEMBER_FIELDS])
        .where(member_table.c.customer_id.in_(ids))
        .order_by(member_table.c.id)
    ):
        members.setdefault(row.customer_id, []).append(row)
    connection.execute(sa.delete(customer_search).where(customer_search.c.id.in_(ids)))
    rows = [
        {"id": cid, "body": customer_document(row, members.get(cid, []))}
        for cid, row in customers.items()
    ]
    if rows:
        connection.execute(sa.insert(customer_search), rows)


def index_new_customers(connection, documents: list[tuple[int, str]]) -> None:
    """Search documents for customers just inserted with Core statements (imports)."""
    if documents:
        connection.execute(
            sa.insert(customer_search), [{"id": cid, "body": body} for cid, body in documents]
        )


def _changed(obj, names) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _after_flush(session, _context) -> None:
    """Keeps customer search documents in step with every ORM write."""
    touched: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Customer):
            if (
                obj in session.new
                or obj in session.deleted
                or _changed(obj, INDEXED_CUSTOMER_FIELDS)
            ):
                touched.add(obj.id)
        elif isinstance(obj, FamilyMember):
            if (
                obj in session.new
                or obj in session.deleted
                or _changed(obj, INDEXED_MEMBER_FIELDS + ("customer_id",))
            ):
                if obj.customer_id is not None:
                    touched.add(obj.customer_id)
    if touched:
        reindex_customers(session.connection(), touched)


def install_reindex_hook() -> None:
    from sqlalchemy.orm import Session as OrmSession

    if not sa.event.contains(OrmSession, "after_flush", _after_flush):
        sa.event.listen(OrmSession, "after_flush", _after_flush)


def backend(bind):
    """The search backend for this session's (or connection's) database."""
    from app.db import is_postgres

    if is_postgres(bind):
        from app.services.search import postgres

        return postgres
    from app.services.search import fts5

    return fts5


def rebuild(session: Session) -> dict[str, int]:
    """Rebuilds every search table from the data (CLI: flask search rebuild)."""
    session.execute(sa.delete(customer_search))
    ids = sorted(session.scalars(sa.select(Customer.id)))
    for start in range(0, len(ids), 1000):
        reindex_customers(session.connection(), set(ids[start : start + 1000]))
    backend(session).rebuild(session)
    notes = session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry))
    return {"customers": len(ids), "entries": notes}


# ---- querying ---------------------------------------------------------------------------


def normalise_query(text: str | None) -> str:
    # Control characters (a NUL breaks FTS5's query parser) count as spaces.
    cleaned = "".join(" " if ord(char) < 32 else char for char in text or "")
    return " ".join(cleaned.split())


def _digits_variant(query: str) -> str | None:
    """ "0912-345" also finds 0912345678: phone digits are indexed without formatting, as
    customers.normal_phone writes them, so "+886 912-345-678" and "912345678" find it too."""
    if re.fullmatch(r"[\d\s()+\-.]+", query):
        digits = normal_phone(query) or ""
        if len(digits) >= 3 and digits != query:
            return digits
    return None


def like(column, text: str):
    """`column` contains `text` (ILIKE, the user's text escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def customer_ids_matching(query: str, bind):
    """SELECT of customer ids whose own text (names, numbers, phone, email, guardians) matches."""
    query = normalise_query(query)
    found = backend(bind)
    selects = [found.customer_ids(query, bind)]
    digits = _digits_variant(query)
    if digits:
        selects.append(found.customer_ids(digits, bind))
    return selects[0] if len(selects) == 1 else sa.union(*selects)


def entry_ids_matching(query: str, bind):
    """SELECT of timeline entry ids (campaign mails never) whose text matches."""
    return backend(bind).entry_ids(normalise_query(query), bind)


def customers_with_notes_matching(query: str, bind):
    """SELECT of customer ids with at least one timeline entry (not a tag change) matching."""
    return sa.select(TimelineEntry.customer_id).where(
        TimelineEntry.id.in_(entry_ids_matching(query, bind)), TimelineEntry.kind != "tag"
    )


@dataclass
class SearchResults:
    query: str
    customers: list[Customer] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)
    more_customers: bool = False
    more_entries: bool = False


def search(
    session: Session, text: str, *, limit: int = RESULT_LIMIT, include_archived: bool = False
) -> SearchResults:
    query = normalise_query(text)
    results = SearchResults(query=query)
    if not query:
        return results
    customer_query = sa.select(Customer).where(
        Customer.id.in_(customer_ids_matching(query, session))
    )
    if not include_archived:
        customer_query = customer_query.where(Customer.archived_at.is_(None))
    customer_query = customer_query.where(Customer.merged_into_id.is_(None))
    customers = list(
        session.scalars(
            customer_query.order_by(Customer.display_name, Customer.id).limit(limit + 1)
        )
    )
    results.more_customers = len(customers) > limit
    results.customers = customers[:limit]
    # Only the newest matches are shown: each backend finds them without collecting every
    # match of a common word.
    newest = backend(session).newest_entry_ids(session, query, (limit + 1) * 4)
    entry_query = (
        sa.select(TimelineEntry)
        .where(TimelineEntry.id.in_(newest), TimelineEntry.kind != "tag")
        .order_by(TimelineEntry.id.desc())
        .limit(limit + 1)
        .options(joinedload(TimelineEntry.customer), joinedload(TimelineEntry.author))
    )
    entries = list(session.scalars(entry_query))
    results.more_entries = len(entries) > limit
    results.entries = entries[:limit]
    return results


def highlight(text: str | None, query: str, *, context: int | None = None) -> Markup:
    """Escapes `text` and wraps each case-insensitive occurrence of `query` in <mark>.

    With `context`, only a window of that many characters around the first match is kept.
    """
    text = text or ""
    query = normalise_query(query)
    if not query:
        return escape(text)
    lowered, needle = text.lower(), query.lower()
    if context is not None:
        first = lowered.find(needle)
        if first > context:
            start = max(0, first - context // 2)
            text, lowered = "…" + text[start:], "…" + lowered[start:]
        if len(text) > context * 2:
            text, lowered = text[: context * 2] + "…", lowered[: context * 2] + "…"
    pieces, position = [], 0
    while needle:
        found = lowered.find(needle, position)
        if found < 0:
            break
        pieces.append(escape(text[position:found]))
        pieces.append(
            Markup("<mark>") + escape(text[found : found + len(needle)]) + Markup("</mark>")
        )
        position = found + len(needle)
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)
