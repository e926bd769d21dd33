"""Real Chromium, in Chinese on a 768×1024 tablet: a homestay's Today is its guests' day, not
a class roll; the front desk checks an arrival in and sees them in house."""

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db

# The after-school roll of 100 children measured 10,022 px on this tablet (issue 23).
ROLL_HEIGHT = 10_022


def _homestay_demo(live_app) -> str:
    from app.models import Stay
    from app.services.shop import shop_context
    from devtools.demo import seed_demo

    with live_app.app_context():
        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=100,
                  kind="homestay")  # fmt: skip
        db.session.commit()
        today = shop_context(db.session).today
        stay = db.session.scalar(
            sa.select(Stay).where(Stay.check_in == today, Stay.status == "booked").limit(1)
        )
        name = stay.customer.display_name
        db.session.remove()
    return name


def _login(context, server, email: str):
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "hearth-demo-1")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{server.url}/")
    return page


def test_the_desk_checks_an_arrival_in_from_a_short_today(browser, live_app, live_server):
    name = _homestay_demo(live_app)
    context = browser.new_context(
        locale="zh-TW", extra_http_headers={"Accept-Language": "zh-TW"},
        viewport={"width": 768, "height": 1024},
    )  # fmt: skip
    try:
        page = _login(context, live_server, "desk@example.com")
        page.goto(f"{live_server.url}/today")
        expect(page.get_by_role("heading", level=1)).to_contain_text("今天")
        arrivals = page.locator("#arrivals-list")
        expect(arrivals).to_contain_text(name)
        before = int(page.locator("#arrivals-count").inner_text())
        in_house = int(page.locator("#in_house-count").inner_text())
        expect(page.locator("#prepare-heading")).to_contain_text("待整理房間")
        for word in ("孩子", "班級", "家長", "接送"):
            expect(page.locator("main")).not_to_contain_text(word)
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < ROLL_HEIGHT / 3, height

        arrivals.locator("li", has_text=name).get_by_role("button", name="辦理入住").click()
        expect(page.locator("#messages")).to_contain_text(name)
        page.goto(f"{live_server.url}/today")
        expect(page.locator("#arrivals-count")).to_have_text(str(before - 1))
        expect(page.locator("#in_house-count")).to_have_text(str(in_house + 1))
        expect(page.locator("#in_house-list")).to_contain_text(name)

        page.locator("#in_house-heading a").click()
        expect(page.locator("#stays-table")).to_contain_text(name)
        expect(page.get_by_role("heading", level=1)).to_contain_text("目前在住")
    finally:
        context.close()
