"""Real Chromium: merging tags asks first, with the numbers, and can be undone."""

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from tests.conftest import browser_login
from tests.factories import make_customer, make_tag, tag_customer


def test_merge_asks_with_counts_and_can_be_undone(page, live_server, live_app, demo_staff):
    from app.models import Tag, customer_tag

    with live_app.app_context():
        vip, typo = make_tag("VIP"), make_tag("vipp")
        both = make_customer("兩個都有")
        tag_customer(both, vip)
        tag_customer(both, typo)
        for name in ("只有錯字一", "只有錯字二"):
            tag_customer(make_customer(name), typo)
        tag_customer(make_customer("只有VIP"), vip)
        db.session.remove()
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/tags/")
    choose = page.get_by_label("Merge vipp into")
    expect(choose).to_have_value("")  # nothing chosen for you
    choose.select_option(label="VIP")
    choose.locator("xpath=..").get_by_role("button", name="Merge").click()
    expect(page.locator("h1")).to_have_text("Merge vipp into VIP?")
    numbers = page.locator("#merge-numbers")
    expect(numbers).to_contain_text("3 children have vipp.")
    expect(numbers).to_contain_text("2 of them will get VIP.")
    expect(numbers).to_contain_text("1 already has both.")
    expect(numbers).to_contain_text("afterwards 4 children have VIP")
    page.get_by_role("button", name="Merge").click()
    expect(page.locator("#messages")).to_contain_text("Merged vipp into VIP (2 children moved).")
    page.get_by_role("button", name="Undo this merge").click()
    expect(page.locator("#messages")).to_contain_text("Merge undone: vipp is back.")
    with live_app.app_context():
        tags = {
            tag.name: set(
                db.session.scalars(
                    sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == tag.id)
                )
            )
            for tag in db.session.scalars(sa.select(Tag))
        }
        db.session.remove()
    assert len(tags["vipp"]) == 3 and len(tags["VIP"]) == 2  # exactly as before
    expect(page.get_by_role("button", name="Undo this merge")).to_have_count(0)
