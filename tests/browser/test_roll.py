"""A teacher's roll on a 768×1024 tablet in Chinese: thirty children on the first screen, a
tap marks one arrived and the tally follows without a reload, Undo takes a mis-tap back; two
children with one name look different; no serious accessibility problem on the changed pages."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.test_accessibility import audit_page

SUNFLOWERS, STARS = "向日葵班 Sunflowers", "星星班 Stars"
GIVEN = "子晴宥辰品妍柏翰詩涵宇軒欣妤采潔彥廷思妤俊傑心怡冠宇宜蓁承恩家豪怡君東城"


@pytest.fixture
def full_class(live_app, demo_shop):
    """The demo centre's first class grown to thirty children (the demo's twelve, one of them
    梁雅婷, and eighteen more), a second 梁雅婷 in the Stars; everyone expected today."""
    from app.models import Customer, Enrolment, Tag
    from app.services import attendance
    from app.services.shop import shop_context
    from tests.factories import make_customer, tag_customer

    with live_app.app_context():
        sunflowers = db.session.scalar(sa.select(Tag).where(Tag.name == SUNFLOWERS))
        stars = db.session.scalar(sa.select(Tag).where(Tag.name == STARS))
        today = shop_context(db.session).today
        for number in range(18):
            child = make_customer("何" + GIVEN[number * 2 : number * 2 + 2])
            tag_customer(child, sunflowers)
        namesake = make_customer("梁雅婷", birthday=today.replace(year=2018, day=1)
                                 - timedelta(days=40))  # fmt: skip
        tag_customer(namesake, stars)
        for customer in db.session.scalars(sa.select(Customer)):
            if not db.session.scalar(
                sa.select(Enrolment.id).where(Enrolment.customer_id == customer.id)
            ):
                attendance.enrol(db.session, customer, group="", weekdays="1234567",
                                 starts_on=today - timedelta(days=30))  # fmt: skip
        db.session.execute(sa.update(Enrolment).values(weekdays="1234567"))
        db.session.commit()
        ids = {
            "namesakes": db.session.scalars(
                sa.select(Customer.id)
                .where(Customer.display_name == "梁雅婷")
                .order_by(Customer.id)
            ).all(),
            "total": len(sunflowers.customers),
        }
        db.session.remove()
    return ids


@pytest.fixture
def tablet(browser, live_server):
    context = browser.new_context(
        bypass_csp=True,  # only so the test can inject axe; the app's CSP stays as it is
        locale="zh-TW",
        extra_http_headers={"Accept-Language": "zh-TW"},
        viewport={"width": 768, "height": 1024},
        has_touch=True,
    )
    page = context.new_page()
    yield page
    context.close()


def _login(page, server, email):
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "hearth-demo-1")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{server.url}/")


def test_thirty_children_on_one_screen_a_live_tally_and_undo(tablet, live_server, full_class):
    page = tablet
    _login(page, live_server, "teacher@example.com")
    assert full_class["total"] == 30
    tiles = page.locator(".roll-tile")
    expect(tiles).to_have_count(30)
    tally = page.locator("#today-roll")
    expect(tally).to_contain_text("到班：0 / 應到 30")
    # Every child's tile is on the first screen, whole.
    boxes = tiles.evaluate_all("ts => ts.map(t => t.getBoundingClientRect().toJSON())")
    assert all(b["top"] >= 0 and b["bottom"] <= 1024 for b in boxes), boxes
    assert all(b["height"] >= 44 for b in boxes)  # still a finger-sized target
    audit = audit_page(page)
    assert audit == [], audit

    page.evaluate("window.notReloaded = true")
    first = tiles.nth(0)
    name = first.locator(".roll-name").inner_text()
    first.get_by_role("button").tap()
    expect(tally).to_contain_text("到班：1 / 應到 30")
    expect(tally).to_contain_text("還沒到 29")
    expect(first).to_have_class("roll-tile roll-here")
    toast = page.locator("#roll-toast .toast")
    expect(toast).to_contain_text(f"{name} 到班了。")
    # The child's card below says the same, without a reload.
    card = page.locator(".child-card", has_text=name).first
    expect(card.locator(".attendance-state")).to_contain_text("起在班上")
    assert page.evaluate("window.notReloaded") is True
    problems = audit_page(page)  # with the toast showing
    assert problems == [], problems

    # A mis-tap: Undo in the toast takes it back.
    toast.get_by_role("button", name="復原").tap()
    expect(tally).to_contain_text("到班：0 / 應到 30")
    expect(tiles.nth(0)).to_have_class("roll-tile roll-missing")
    expect(page.locator("#roll-toast")).to_contain_text("已復原")

    # Two taps, then Undo on the second child's own tile.
    tiles.nth(1).get_by_role("button").tap()
    expect(tally).to_contain_text("到班：1 / 應到 30")
    tiles.nth(2).get_by_role("button").tap()
    expect(tally).to_contain_text("到班：2 / 應到 30")
    tiles.nth(2).locator(".roll-undo").get_by_role("button").tap()
    expect(tally).to_contain_text("到班：1 / 應到 30")
    expect(tiles.nth(1)).to_have_class("roll-tile roll-here")
    assert page.evaluate("window.notReloaded") is True
    page.reload()
    expect(tally).to_contain_text("到班：1 / 應到 30")


def test_two_children_with_one_name_look_different(tablet, live_server, full_class):
    page = tablet
    _login(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/today?group={SUNFLOWERS}&group={STARS}")
    first, second = full_class["namesakes"]
    cards = page.locator(".child-card", has_text="梁雅婷")
    expect(cards).to_have_count(2)
    expect(page.locator(f"#child-{first} .child-meta")).to_contain_text(SUNFLOWERS)
    expect(page.locator(f"#child-{second} .child-meta")).to_contain_text(STARS)
    colours = [
        page.locator(f"#tile-{ident} .avatar").evaluate("e => getComputedStyle(e).backgroundColor")
        for ident in (first, second)
    ]
    assert colours[0] != colours[1]
    # Each under its own class on the roll.
    expect(page.locator(".roll-class").nth(0)).to_contain_text(SUNFLOWERS)
    stars_tiles = page.locator(".roll-tiles").nth(1)
    expect(stars_tiles.locator(f"#tile-{second}")).to_be_visible()
    page.locator(f"#child-{first} .child-link").click()
    expect(page.locator("#child-class")).to_contain_text(SUNFLOWERS)
    expect(page.locator("#pickup-people")).to_contain_text("家長與接送人")
    problems = audit_page(page)
    assert problems == [], problems

    page.goto(live_server.url + "/")
    expect(page.locator("#centre-today")).to_contain_text("應到")
    expect(page.locator("#alert-trend")).to_contain_text("= peanut = 土豆")
    expect(page.locator("#lapsed-words")).not_to_contain_text("level:")
    problems = audit_page(page)
    assert problems == [], problems
    page.goto(live_server.url + "/settings/synonyms")
    expect(page.get_by_label("意思相同的關鍵字，一行一組")).to_have_value(
        "花生 = peanut = 土豆\n海鮮 = shellfish\n奶 = milk\n氣喘 = asthma\n"
        "蛋奶素 = vegetarian\n靠窗 = window seat"
    )
    problems = audit_page(page)
    assert problems == [], problems
