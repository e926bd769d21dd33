"""The customer list filtered by segments, the builder, saved segments and the search page."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Segment
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_tag, tag_customer


def _setup():
    vip, rival = make_tag("VIP"), make_tag("競爭對手")
    a, b, c = make_customer("Alpha"), make_customer("Bravo"), make_customer("Charlie")
    tag_customer(a, vip)
    tag_customer(b, vip)
    tag_customer(b, rival)
    return a, b, c


def test_list_filters_by_expression_and_explains_errors(client, owner):
    _setup()
    login(client, owner)
    page = client.get("/customers/?q=tag:VIP and not tag:競爭對手").get_data(as_text=True)
    assert "1 guest<" in page and "Alpha" in page and "Bravo" not in page
    bad = client.get("/customers/?q=(tag:VIP").get_data(as_text=True)
    assert "At character 1: This parenthesis is never closed" in bad
    unknown = client.get("/customers/?q=tag:VPI").get_data(as_text=True)
    assert "There is no tag called “VPI”. Did you mean: VIP?" in unknown


def test_errors_in_chinese(client, owner):
    login(client, owner)
    client.post("/language", data={"lang": "zh_Hant"})
    page = client.get("/customers/?q=tag:VIP)").get_data(as_text=True)
    assert "第 8 個字" in page


def test_builder_writes_the_expression_and_pushes_the_url(client, owner):
    _setup()
    login(client, owner)
    headers = {"HX-Request": "true", "HX-Target": "customer-results"}
    response = client.get("/customers/?build=1&inc=VIP&exc_new=競爭對手&add=exc", headers=headers)
    text = response.get_data(as_text=True)
    assert response.headers["HX-Push-Url"].startswith("/customers/?q=tag:VIP+and+not+tag:")
    assert 'value="tag:VIP and not tag:競爭對手"' in text and 'id="segment-builder" ' in text
    assert "1 guest<" in text
    dropped = client.get(
        "/customers/?build=1&inc=VIP&exc=競爭對手&drop=exc:競爭對手", headers=headers
    )
    assert "2 guests" in dropped.get_data(as_text=True)
    # Without htmx the builder redirects to the bookmarkable address.
    plain = client.get("/customers/?build=1&inc=VIP")
    assert plain.status_code == 302 and plain.headers["Location"] == "/customers/?q=tag:VIP"


def test_save_edit_delete_segment(client, owner):
    _setup()
    login(client, owner)
    saved = client.post(
        "/segments/", data={"name": "VIP 非對手", "expression": "tag:VIP and not tag:競爭對手"}
    )
    assert saved.status_code == 302
    segment = db.session.scalar(sa.select(Segment))
    listing = client.get("/segments/").get_data(as_text=True)
    assert "VIP 非對手" in listing and ">1</a>" in listing
    bad = client.post(
        f"/segments/{segment.id}/edit", data={"name": "VIP 非對手", "expression": "tag:"}
    )
    assert bad.status_code == 422 and "Write a value after tag:" in bad.get_data(as_text=True)
    duplicate = client.post("/segments/", data={"name": "vip 非對手", "expression": "tag:VIP"})
    assert (
        duplicate.status_code == 422
        and "Another segment already has this name." in duplicate.get_data(as_text=True)
    )
    client.post(f"/segments/{segment.id}/delete")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_segment_whose_tag_was_deleted_shows_a_message(client, owner):
    _setup()
    login(client, owner)
    db.session.add(Segment(name="Old", expression="tag:Gone"))
    db.session.commit()
    page = client.get("/segments/")
    assert page.status_code == 200 and "There is no tag called “Gone”" in page.get_data(
        as_text=True
    )


def test_search_groups_and_highlights(client, owner):
    child = make_customer("王小明")
    make_alert(child, keywords="花生", body="小明對花生過敏")
    login(client, owner)
    partial = client.get(
        "/search?q=花生", headers={"HX-Request": "true", "HX-Target": "search-results"}
    )
    text = partial.get_data(as_text=True)
    assert "<html" not in text and "<mark>花生</mark>" in text and "alert-badge" in text
    page = client.get("/search?q=王").get_data(as_text=True)
    assert "<mark>王</mark>小明" in page and "<title>Search" in page
    hostile = client.get("/search?q=<script>").get_data(as_text=True)
    assert "<script>" not in hostile.split("</head>")[1]


def test_saved_segments_are_one_click_from_home(client, owner):
    _setup()
    db.session.add(Segment(name="VIP 非對手", expression="tag:VIP and not tag:競爭對手"))
    db.session.commit()
    login(client, owner)
    page = client.get("/").get_data(as_text=True)
    assert "VIP 非對手" in page and "/customers/?q=tag:VIP+and+not" in page
