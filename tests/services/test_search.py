"""Search: 1-, 2-, 3+-character Chinese and Latin queries equal a brute-force LIKE scan."""

import pytest
import sqlalchemy as sa

from app.db.bigrams import bigrams
from app.extensions import db
from app.models import Customer, FamilyMember, TimelineEntry
from app.services import search
from app.services.customers import add_family_member
from app.services.timeline import edit_entry
from tests.factories import make_customer, make_entry, make_user

NAMES = ["王小明", "王大同", "林東城", "Amy Wang", "陳怡君", "Brian O'Neil", "小王子"]
NOTES = [
    "小明對花生過敏",
    "家長說花生醬可以，但生花生不行",
    "過敏藥放在書包前袋",
    "Allergic to peanuts; EpiPen in bag",
    "今天數學考一百分！",
    "Mum (Wang) will pick up at 5pm",
    "生日快樂 🎂",
    "喜歡恐龍和花",
]


def test_bigram_tokens():
    assert bigrams("小明對花生過敏") == "小明 明對 對花 花生 生過 過敏 敏"
    assert bigrams("Amy 王") == "am my y 王"
    assert bigrams("0912-345") == "09 91 12 2 34 45 5"
    assert bigrams("") == ""


@pytest.fixture
def shop(app):
    author = make_user("teacher")
    for number, name in enumerate(NAMES):
        customer = make_customer(
            name, phone=f"0912-345-{number:03d}", email=f"family{number}@example.com"
        )
        if number % 2:
            add_family_member(db.session, customer, {"name": f"{name[0]}媽媽", "is_guardian": True})
        for note in NOTES[number::3]:
            make_entry(customer, author=author, body=note)
        db.session.commit()
    return author


def _brute_customers(query: str) -> set[int]:
    query = query.lower()
    found = set()
    for customer in db.session.scalars(sa.select(Customer)):
        members = db.session.scalars(
            sa.select(FamilyMember).where(FamilyMember.customer_id == customer.id)
        ).all()
        text = search.customer_document(customer, members).lower()
        digits = search._digits_variant(query)
        if query in text or (digits and digits in text):
            found.add(customer.id)
    return found


def _brute_entries(query: str) -> set[int]:
    rows = db.session.execute(
        sa.select(TimelineEntry.id, TimelineEntry.body).where(TimelineEntry.kind != "tag")
    )
    return {entry_id for entry_id, body in rows if query.lower() in body.lower()}


QUERIES = [
    "王",
    "花",
    "生",
    "花生",
    "過敏",
    "小明",
    "家長",
    "花生醬",
    "小明對花生過敏",
    "數學考",
    "a",
    "y",
    "am",
    "peanut",
    "ALLERGIC",
    "wang",
    "0912",
    "345-002",
    "5pm",
    "(w",
    "🎂",
    "不存在",
]


@pytest.mark.parametrize("query", QUERIES)
def test_search_equals_brute_force(shop, query):
    results = search.search(db.session, query, limit=1000)
    assert {c.id for c in results.customers} == _brute_customers(query)
    assert {e.id for e in results.entries} == _brute_entries(query)


def test_search_follows_edits_and_deletes(shop):
    customer = make_customer("測試")
    entry = make_entry(customer, author=shop, body="喜歡芒果")
    assert [e.id for e in search.search(db.session, "芒果").entries] == [entry.id]
    edit_entry(db.session, entry, editor=shop, body="喜歡西瓜")
    db.session.commit()
    assert search.search(db.session, "芒果").entries == []
    assert search.search(db.session, "芒").entries == []
    assert [e.id for e in search.search(db.session, "西瓜").entries] == [entry.id]
    db.session.delete(entry)
    db.session.commit()
    assert search.search(db.session, "西瓜").entries == []
    customer.display_name = "改名字"
    db.session.commit()
    assert search.search(db.session, "測試").customers == []
    assert [c.id for c in search.search(db.session, "名字").customers] == [customer.id]


def test_guardian_names_are_found(shop):
    customer = make_customer("東城")
    add_family_member(db.session, customer, {"name": "東城爸爸 Henry", "is_guardian": True})
    db.session.commit()
    assert customer.id in {c.id for c in search.search(db.session, "henry").customers}
    assert customer.id in {c.id for c in search.search(db.session, "爸").customers}


def test_phone_digits_match_any_formatting(shop):
    customer = make_customer("Phone", phone="(02) 2345-6789")
    for query in ["0223456789", "02-2345-6789", "2345 6789", "6789"]:
        assert customer.id in {c.id for c in search.search(db.session, query).customers}, query


def test_rebuild_gives_the_same_answers(shop):
    before = {q: search.search(db.session, q, limit=1000) for q in ["花生", "王", "amy"]}
    search.rebuild(db.session)
    db.session.commit()
    for query, result in before.items():
        again = search.search(db.session, query, limit=1000)
        assert [c.id for c in again.customers] == [c.id for c in result.customers]
        assert [e.id for e in again.entries] == [e.id for e in result.entries]


def test_highlight_escapes_and_marks():
    assert (
        str(search.highlight("<b>小明對花生過敏</b>", "花生"))
        == "&lt;b&gt;小明對<mark>花生</mark>過敏&lt;/b&gt;"
    )
    assert str(search.highlight("Amy WANG", "wang")) == "Amy <mark>WANG</mark>"


@pytest.mark.parametrize("query", ["+886 912-345-679", "886912345679", "912345679", "0912 345 679"])
def test_a_phone_in_any_spelling_finds_the_customer(shop, query):
    customer = make_customer("手機", phone="0912345679")
    assert customer.id in {c.id for c in search.search(db.session, query).customers}, query
    assert {c.id for c in search.search(db.session, query, limit=1000).customers} == (
        _brute_customers(query)
    )


def test_a_phone_saved_in_the_international_form_is_found_as_dialled_here(shop):
    customer = make_customer("國外回來", phone="+886 912-345-679")
    for query in ["0912345679", "0912-345-679", "912345679"]:
        assert customer.id in {c.id for c in search.search(db.session, query).customers}, query
