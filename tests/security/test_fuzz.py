"""Arbitrary text in every search box, segment and filter: a clear answer, never a 500."""

import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Campaign
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_entry, make_tag, tag_customer

# path, the query parameters it reads
FILTERS = [
    ("/search", ["q"]),
    ("/customers/", ["q", "sort", "dir", "archived"]),
    ("/customers/", ["build", "text", "inc", "exc", "level", "birthday", "nocontact", "has_email", "add", "drop"]),
    ("/customers/{customer}/entries", ["cursor"]),
    ("/customers/{customer}/tags/suggest", ["q"]),
    ("/feed", ["author", "day", "until", "kind", "keyword", "cursor"]),
    ("/campaigns/new", ["q", "segment"]),
    ("/campaigns/{campaign}", ["status", "page", "preview"]),
    ("/labels", ["q", "segment", "sheet"]),
    ("/customers/export", ["q", "format", "columns"]),
    ("/audit", ["action", "user", "customer", "since", "until"]),
    ("/reminders/", ["rule", "view"]),
    ("/today", ["group"]),
    ("/segments/", ["q"]),
    ("/login", ["next"]),
]  # fmt: skip

# Text a person (or an attacker) might send: any character, SQL and FTS punctuation, deep
# nesting, huge numbers, NULs.
NASTY = st.one_of(
    st.text(max_size=60),
    st.text(alphabet='()"\\:*^-+<>=%_\x00 ANDORNOTtag', max_size=80),
    st.sampled_from(
        ["(" * 500 + "tag:a" + ")" * 500, "ab\x00cd", "9" * 40, "-1", "2026-02-30",
         'tag:"a\\"b', "NEAR(a b)", "' OR 1=1 --", "%00", "😀" * 3, "²", "１２", "tag:" + "x" * 3000]
    ),
)  # fmt: skip


@pytest.fixture
def shop(client, owner):
    customer = make_customer("王小明", email="ming@example.com")
    make_entry(customer, body="喜歡畫畫")
    make_alert(customer)
    tag_customer(customer, make_tag('說 "hi"'))
    campaign = Campaign(subject="Hi", body="{{ greeting }}", audience="has:email", status="draft")
    db.session.add(campaign)
    db.session.commit()
    login(client, owner)
    return {"customer": customer.id, "campaign": campaign.id}


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_filter_answers_500(client, shop, data):
    path, names = data.draw(st.sampled_from(FILTERS))
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    params = [(name, data.draw(NASTY)) for name in chosen]
    url = path.format(**shop) + "?" + urllib.parse.urlencode(params)
    response = client.get(url)
    assert response.status_code < 500, (url, response.get_data(as_text=True)[:300])


def test_nul_and_deep_nesting_get_clear_messages(client, shop):
    nul = client.get("/search?q=ab%00cd")
    assert nul.status_code == 400
    assert "character that cannot be used" in nul.get_data(as_text=True)
    deep = client.get("/customers/?q=" + urllib.parse.quote("(" * 500 + "tag:a" + ")" * 500))
    assert deep.status_code in (200, 422)
    assert "nested too deeply" in deep.get_data(as_text=True)


def test_a_tag_with_a_quotation_mark_works_in_a_segment(client, shop):
    from app.templating import tag_query

    expression = tag_query('說 "hi"')
    assert expression == 'tag:"說 \\"hi\\""'
    page = client.get("/customers/?q=" + urllib.parse.quote(expression))
    assert page.status_code == 200
    assert "王小明" in page.get_data(as_text=True)
