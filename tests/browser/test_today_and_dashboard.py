"""Real Chromium on a tablet-sized screen: the teacher's Today view, quick notes, and the
owner's summary whose numbers open the lists behind them."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import browser_login


def test_teacher_sees_allergies_first_and_adds_a_quick_note(
    page, live_server, demo_shop, output_path
):
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "teacher@example.com")
    expect(page.get_by_role("heading", level=1)).to_contain_text("向日葵班 Sunflowers")
    cards = page.locator(".child-card")
    expect(cards.first).to_be_visible()
    # Children with allergies come first, the badge on their card.
    expect(cards.first.locator(".alert-badge").first).to_contain_text("Allergy")
    first = cards.filter(has_text="花生")
    expect(first.locator(".alert-badge")).to_contain_text("Allergy: 花生, peanut")
    badges = cards.evaluate_all(
        "cs => cs.map(c => c.querySelectorAll('.alert-allergy').length > 0)"
    )
    assert badges == sorted(badges, reverse=True), badges
    font_size = first.locator(".child-name").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert font_size >= 16
    link_height = first.locator(".child-link").evaluate("e => e.getBoundingClientRect().height")
    assert link_height >= 44
    page.screenshot(path=str(Path(output_path) / "today-768x1024.png"), full_page=True)
    name = first.locator(".child-name").inner_text().split(" (")[0]

    first.locator(
        ".child-link"
    ).tap() if page.context.browser.browser_type.name != "chromium" else first.locator(
        ".child-link"
    ).click()
    expect(page.get_by_role("alert")).to_contain_text("花生")
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    box = page.get_by_label("New entry")
    box.fill("午餐吃完了，沒有碰花生")
    page.get_by_role("button", name="Add to timeline").click()
    expect(page.locator("#feed > li").first).to_contain_text("午餐吃完了，沒有碰花生")
    page.screenshot(path=str(Path(output_path) / "child-768x1024.png"), full_page=True)

    # Back on Today, the card shows today's note; the landscape tablet works too.
    page.set_viewport_size({"width": 1024, "height": 768})
    page.get_by_role("link", name="Back to today").click()
    expect(page.locator(".child-card", has_text="花生")).to_contain_text("午餐吃完了")
    # No campaign, export or settings controls for a teacher.
    expect(page.get_by_role("link", name="Campaigns")).to_have_count(0)
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)


def test_owner_summary_shows_the_alert_trend_and_links_to_the_list(page, live_server, demo_shop):
    browser_login(page, live_server, "owner@example.com")
    trend = page.locator("#alert-trend")
    expect(trend).to_contain_text("花生")
    row = trend.locator("tr", has_text="花生")
    expect(row.locator(".up")).to_be_visible()  # rising this month
    this_month = row.locator("td.num").nth(1)
    count = int(this_month.inner_text())
    this_month.locator("a").click()
    expect(page).to_have_url(re.compile(r"/feed\?.*keyword="))
    expect(page.locator(".shop-feed > li.entry")).to_have_count(count)

    page.go_back()
    levels = page.locator(".stat-card .bar-table tr", has_text="A")
    number = int(levels.locator("td.num").inner_text())
    levels.locator("td.num a").click()
    expect(page).to_have_url(re.compile(r"/customers/\?q=level"))
    expect(page.locator("#result-count")).to_have_text(f"{number} children")


def test_today_for_a_big_group_counts_filters_and_keeps_names_inside(
    page, live_server, live_app, demo_shop
):
    """A group of 40 with one very long name (no spaces to break at): a count, an "alerts only" filter, no name
    spilling out of its card, and one Today link in the menu."""
    from app.extensions import db
    from app.models import Customer, Tag
    from tests.factories import make_alert, make_customer, tag_customer

    with live_app.app_context():
        import sqlalchemy as sa

        group = db.session.scalar(sa.select(Tag).where(Tag.is_group.is_(True)).order_by(Tag.id))
        for number in range(40):
            child = make_customer(f"大班孩子{number}")
            tag_customer(child, group)
        long_name = make_customer("Ouyang-" + "Maximilianus" * 6)
        tag_customer(long_name, group)
        make_alert(long_name, keywords="蛋", body="對蛋過敏")
        total = len(group.customers)
        with_alerts = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
        db.session.remove()
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "teacher@example.com")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Today")).to_have_count(1)
    expect(nav.get_by_role("link", name="Home")).to_have_count(0)
    count = page.locator("#today-count")
    expect(count).to_contain_text(f"{total} children")
    shown = int(re.search(r"(\d+) with", count.inner_text()).group(1))
    assert 0 < shown < total and with_alerts
    page.get_by_role("link", name="Alerts only").click()
    expect(page.locator(".child-card")).to_have_count(shown)
    card = page.locator(".child-card", has_text="Ouyang")
    overflow = card.evaluate("c => c.scrollWidth - c.clientWidth")
    assert overflow <= 0, overflow
    page.get_by_role("link", name="Everyone").click()
    expect(page.locator(".child-card")).to_have_count(total)
