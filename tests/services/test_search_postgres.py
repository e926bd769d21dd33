"""PostgreSQL's search pieces (migration e2b7c4d9a1f3): split as SQLite's bigram index splits,
kept current by every write path, served by the GIN index, and the newest matches found
exactly whether they are among the newest rows or far back."""

import pytest
import sqlalchemy as sa

from app.db.bigrams import bigrams
from app.extensions import db
from app.models import TimelineEntry
from app.services import search
from app.services.privacy import erase
from app.services.search import postgres
from tests.factories import make_customer, make_entry, make_user

pytestmark = pytest.mark.postgres_only

TEXTS = [
    "小明對花生過敏",
    "Amy 王",
    "0912-345",
    "",
    "Brian O'Neil, 3rd floor",
    "今天數學考一百分！明天考英文。",
    "ÉCOLE été Ünïcode",
    "ひらがな カタカナ 한국어",
    "生日快樂 🎂 ok",
    "tab\tand\nnew line",
]


def _pieces_of(text: str) -> set[str]:
    vector = db.session.scalar(sa.select(sa.func.hearth_bigrams(text).cast(sa.Text)))
    return {piece.strip("'") for piece in vector.split()} if vector else set()


@pytest.mark.parametrize("text", TEXTS)
def test_postgres_splits_text_as_sqlite_does(app, text):
    assert _pieces_of(text) == set(bigrams(text).split())


def _stored_pieces(entry_id: int) -> set[str]:
    vector = db.session.scalar(
        sa.select(postgres.entries.c.search_bigrams.cast(sa.Text)).where(
            postgres.entries.c.id == entry_id
        )
    )
    return {piece.strip("'") for piece in vector.split()} if vector else set()


def test_every_write_keeps_the_pieces_current(app):
    teacher = make_user("teacher")
    customer = make_customer("林小華")
    entry = make_entry(customer, author=teacher, body="喜歡芒果")
    assert _stored_pieces(entry.id) == {"喜歡", "歡芒", "芒果", "果"}
    # A Core insert (as the importer writes first notes) and a Core update.
    new_id = db.session.execute(
        sa.insert(TimelineEntry)
        .values(
            customer_id=customer.id,
            kind="note",
            body="Piano 課",
            pinned=False,
            created_at=entry.created_at,
        )  # fmt: skip
        .returning(TimelineEntry.id)
    ).scalar_one()
    db.session.execute(
        sa.update(TimelineEntry).where(TimelineEntry.id == entry.id).values(body="喜歡西瓜")
    )
    db.session.commit()
    assert _stored_pieces(new_id) == {"pi", "ia", "an", "no", "o", "課"}
    assert _stored_pieces(entry.id) == {"喜歡", "歡西", "西瓜", "瓜"}
    assert [e.id for e in search.search(db.session, "piano").entries] == [new_id]
    # An erasure blanks the body, and with it every piece.
    erase(db.session, customer, typed_name="林小華")
    db.session.commit()
    assert _stored_pieces(entry.id) == set() and _stored_pieces(new_id) == set()
    assert search.search(db.session, "西瓜").entries == []


def test_campaign_mails_have_no_pieces(app):
    customer = make_customer("王大同")
    entry = make_entry(customer, body="春季優惠")
    db.session.execute(
        sa.update(TimelineEntry).where(TimelineEntry.id == entry.id).values(action="campaign")
    )
    db.session.commit()
    assert _stored_pieces(entry.id) == set()
    assert search.search(db.session, "優惠").entries == []


@pytest.mark.parametrize("query", ["花生", "花", "a", "piano", "不存在", "🎂", "(w"])
@pytest.mark.parametrize("recent_rows", [1, 3, 1000])
def test_newest_matches_equal_brute_force_from_either_path(app, query, recent_rows):
    """Matches among the newest rows, or only further back (the index path): the same
    newest ids as a plain scan, newest first."""
    customer = make_customer("Mia Wang")
    bodies = ["對花生過敏", "piano 課 (Wang)", "喜歡花", "Amy", "生日快樂 🎂", "花生醬", "x"] * 3
    for body in bodies:
        make_entry(customer, body=body)
    rows = db.session.execute(
        sa.select(TimelineEntry.id, TimelineEntry.body).order_by(TimelineEntry.id.desc())
    )
    expected = [entry_id for entry_id, body in rows if query.lower() in body.lower()][:4]
    newest = postgres.newest_entry_ids(db.session, query, 4, recent_rows=recent_rows)
    assert sorted(db.session.scalars(newest), reverse=True) == expected


@pytest.mark.parametrize("query", ["鋼琴", "琴", "piano"])
def test_search_plans_use_the_bigram_index(app, query):
    """Customers and entries are matched through the GIN indexes (the planner is told not to
    read the tables whole, as it would for a test's few rows)."""
    make_entry(make_customer("王小明"), body="鋼琴課 piano")
    db.session.execute(sa.text("SET enable_seqscan = off"))
    for statement, index in [
        (postgres.entry_ids(query, db.session), "ix_timeline_entry_bigrams"),
        (postgres.customer_ids(query, db.session), "ix_customer_search_bigrams"),
    ]:
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        sql = str(compiled).replace("%%", "%")
        plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {sql}")))
        assert index in plan, plan
