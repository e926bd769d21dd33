"""A child is never called a customer or a guest: every page speaks the shop's own words,
in both languages, and the owner may name the levels A/B/C."""

import re

import pytest

from app.extensions import db
from app.services.shop import ensure_shop
from tests.conftest import login
from tests.factories import make_customer

PAGES = [
    "/",
    "/customers/",
    "/customers/new",
    "/imports/",
    "/segments/",
    "/tags/",
    "/reminders/",
    "/settings/reminders",
    "/settings/reminders/new",
    "/customers/export",
    "/audit",
    "/campaigns/",
    "/settings/",
    "/settings/fields",
    "/settings/products",
    "/reports",
    "/reports?report=history&product=*",
    "/reports?report=repurchase&min_price=1",
    "/imports/purchases",
]


def _shop(kind: str):
    shop = ensure_shop(db.session)
    shop.kind = kind
    db.session.commit()
    return shop


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("locale", ["zh_Hant", "en"])
def test_after_school_pages_speak_of_children(client, owner, locale):
    _shop("afterschool")
    owner.locale = locale
    db.session.commit()
    customer = make_customer("林小明")
    login(client, owner)
    wrong = ["顧客", "客戶", "房客"] if locale == "zh_Hant" else ["customer", "guest"]
    for path in [*PAGES, f"/customers/{customer.id}", f"/customers/{customer.id}/privacy"]:
        response = client.get(path)
        assert response.status_code == 200, path
        text = _visible_text(response.get_data(as_text=True))
        if path == "/settings/":  # the kind of shop is chosen there, by naming both
            continue
        for word in wrong:
            assert word not in text.lower(), (
                path,
                word,
                text[text.lower().find(word) - 80 :][:160],
            )
    if locale == "zh_Hant":
        assert "搜尋學生與紀錄" in client.get("/").get_data(as_text=True)
    else:
        assert "Search children and notes" in client.get("/").get_data(as_text=True)


def test_homestay_pages_speak_of_guests(client, owner):
    _shop("homestay")
    owner.locale = "zh_Hant"
    db.session.commit()
    login(client, owner)
    for path in [p for p in PAGES if p != "/settings/"]:
        text = _visible_text(client.get(path).get_data(as_text=True))
        assert "學生" not in text and "顧客" not in text, path
    assert "搜尋房客與紀錄" in client.get("/").get_data(as_text=True)


def test_owner_names_the_levels(client, owner):
    _shop("afterschool")
    login(client, owner)
    page = client.get("/customers/new").get_data(as_text=True)
    assert "A — long-term" in page and "prospect" not in page
    form = client.get("/settings/").get_data(as_text=True)
    assert "Name for level A" in form
    data = {
        "name": "小太陽安親班",
        "kind": "afterschool",
        "timezone": "Asia/Taipei",
        "default_locale": "zh_Hant",
        "mail_rate_per_minute": "600",
        "mail_max_consecutive_failures": "10",
        "level_a_name": "老生",
        "level_b_name": "",
        "level_c_name": "x" * 41,
    }
    refused = client.post("/settings/", data=data)
    assert refused.status_code == 422
    assert "老生" in refused.get_data(as_text=True)  # what was typed stays
    data["level_c_name"] = "試聽"
    assert client.post("/settings/", data=data).status_code == 302
    page = client.get("/customers/new").get_data(as_text=True)
    assert "A — 老生" in page and "B — enrolled" in page and "C — 試聽" in page
    customers = client.get("/customers/").get_data(as_text=True)
    assert "A — 老生" in customers  # the list builder offers the owner's words too
