"""Real Chromium: the front desk's day — log a note from a reminder, snooze one, without a
page reload; the note lands on the customer's timeline."""

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_login


@pytest.fixture
def due_today(live_app, demo_shop):
    """Two reminders for today on top of whatever the demo's rules made."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Customer, Reminder
    from app.services.shop import shop_context

    with live_app.app_context():
        today = shop_context(db.session).today  # "due today" is the shop's day
        first, second = db.session.scalars(sa.select(Customer).order_by(Customer.id).limit(2))
        for customer, text in ((first, "回電給家長"), (second, "確認下學期報名")):
            db.session.add(Reminder(customer_id=customer.id, text=text, due_date=today))
        db.session.commit()
        db.session.remove()


def test_desk_works_through_the_day(page, live_server, due_today):
    browser_login(page, live_server, "desk@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("My day")
    reminders = page.locator("li.reminder")
    expect(reminders.first).to_be_visible()
    count = reminders.count()
    page.evaluate("window.__stayed = true")

    first = reminders.first
    name = first.locator(".reminder-customer").inner_text()
    first.locator(".reminder-more > summary").click()  # one line each; actions on demand
    first.get_by_label("Log a note").fill("打電話問候，下週會來")
    first.get_by_role("button", name="Log note and finish").click()
    expect(page.get_by_text("Note added and reminder done.")).to_be_visible()
    expect(page.locator("li.reminder.is-done")).to_have_count(1)

    if count > 1:
        second = page.locator("li.reminder:not(.is-done)").first
        second.locator(".reminder-more > summary").click()
        second.get_by_role("button", name="Snooze 1 week").click()
        expect(page.get_by_text("Snoozed until")).to_be_visible()
    assert page.evaluate("window.__stayed === true")

    page.reload()
    expect(page.locator("li.reminder")).to_have_count(count - (2 if count > 1 else 1))
    page.goto(f"{live_server.url}/reminders/?view=done")
    page.get_by_role("link", name=name).first.click()
    expect(page.locator("#feed")).to_contain_text("打電話問候，下週會來")


def test_my_day_stays_short_with_85_reminders(page, live_server, live_app, demo_staff):
    """85 due reminders: counts at the top, birthdays and alerts first, reminders grouped
    (today / overdue by rule) one line each: a page, not a 15,000 px scroll."""
    from datetime import timedelta

    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Reminder, ReminderRule
    from app.services.shop import shop_context
    from tests.factories import make_customer

    with live_app.app_context():
        today = shop_context(db.session).today
        rule = ReminderRule(name="三十天沒聯絡", kind="no_contact", days=30, levels=["A", "B", "C"])
        db.session.add(rule)
        db.session.flush()
        for number in range(85):
            customer = make_customer(f"客人{number:02d}")
            db.session.add(
                Reminder(
                    customer_id=customer.id,
                    rule_id=rule.id if number % 2 else None,
                    occasion=f"test:{number}",
                    text=f"提醒 {number}",
                    due_date=today - timedelta(days=number % 3),
                )
            )
        db.session.commit()
        due_today = db.session.scalar(sa.select(sa.func.count()).where(Reminder.due_date == today))
        db.session.remove()
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, live_server, "desk@example.com")
    counts = page.locator("#day-counts")
    expect(counts).to_contain_text(f"{due_today} due today")
    expect(counts).to_contain_text(f"{85 - due_today} overdue")
    groups = page.locator(".reminder-group > summary")
    expect(groups.first).to_contain_text("Due today")
    expect(page.locator(".reminder-group", has_text="Overdue: 三十天沒聯絡")).to_have_count(1)
    expect(page.locator(".reminder-group", has_text="Overdue: added by hand")).to_have_count(1)
    # Birthdays and my customers with alerts come before the reminders.
    order = page.evaluate(
        "() => ['birthdays-heading', 'alerts-heading', 'due-heading'].map("
        "id => document.getElementById(id).getBoundingClientRect().top)"
    )
    assert order == sorted(order), order
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"my day height with 85 reminders: {height}px")
    assert height < 6000, height
