"""Reminder views: act on a reminder, add one by hand, rules with bad input, My day."""

import re
from datetime import date, timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import AuditEvent, Reminder, ReminderRule, TimelineEntry
from app.services.shop import shop_context
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_tag, make_user, tag_customer


def reminder_for(customer, **fields) -> Reminder:
    reminder = Reminder(
        customer_id=customer.id, text="Call the family", due_date=date.today(), **fields
    )
    db.session.add(reminder)
    db.session.commit()
    return reminder


def test_log_a_note_from_the_reminder_finishes_it(app, client, owner):
    desk = make_user("frontdesk")
    customer = make_customer("王小明")
    reminder = reminder_for(customer, assignee_id=desk.id)
    login(client, desk)
    page = client.get("/").get_data(as_text=True)
    assert "Call the family" in page and "王小明" in page
    response = client.post(
        f"/reminders/{reminder.id}/note",
        data={"body": "Called, coming Sunday"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Note added and reminder done." in response.get_data(as_text=True)
    db.session.refresh(reminder)
    assert reminder.done_how == "note" and reminder.done_by_id == desk.id
    note = db.session.scalar(
        sa.select(TimelineEntry).where(TimelineEntry.customer_id == customer.id)
    )
    assert note.body == "Called, coming Sunday"
    assert "Call the family" not in client.get("/").get_data(as_text=True)


def test_an_empty_note_is_refused_and_nothing_changes(app, client, owner):
    desk = make_user("frontdesk")
    reminder = reminder_for(make_customer())
    login(client, desk)
    response = client.post(
        f"/reminders/{reminder.id}/note", data={"body": "  "}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Write something first." in response.get_data(as_text=True)
    db.session.refresh(reminder)
    assert reminder.done_at is None


def test_snooze_and_done_and_undo(app, client, owner):
    desk = make_user("frontdesk")
    reminder = reminder_for(make_customer())
    login(client, desk)
    assert client.post(f"/reminders/{reminder.id}/snooze", data={"days": "5"}).status_code == 302
    db.session.refresh(reminder)
    assert reminder.due_date == date.today()  # 5 is not offered: nothing moved
    response = client.post(
        f"/reminders/{reminder.id}/snooze", data={"days": "7"}, headers={"HX-Request": "true"}
    )
    assert "Snoozed until" in response.get_data(as_text=True)
    db.session.refresh(reminder)
    assert reminder.due_date > date.today() + timedelta(days=5)
    client.post(f"/reminders/{reminder.id}/done")
    db.session.refresh(reminder)
    assert reminder.done_at is not None
    client.post(f"/reminders/{reminder.id}/reopen")
    db.session.refresh(reminder)
    assert reminder.done_at is None


def test_add_a_reminder_by_hand_with_bad_input(app, client, owner):
    desk = make_user("frontdesk")
    customer = make_customer()
    login(client, desk)
    bad = client.post(
        f"/customers/{customer.id}/reminders",
        data={"text": "Call", "due_date": "2026-02-30", "assignee_id": ""},
    )
    assert bad.status_code == 422
    assert "Enter a real date" in bad.get_data(as_text=True)
    nobody = client.post(
        f"/customers/{customer.id}/reminders",
        data={"text": "Call", "due_date": "2027-01-01", "assignee_id": "999"},
    )
    assert nobody.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reminder)) == 0
    good = client.post(
        f"/customers/{customer.id}/reminders",
        data={"text": "Call", "due_date": "2027-01-01", "assignee_id": str(desk.id)},
    )
    assert good.status_code == 302
    assert "Call" in client.get(f"/customers/{customer.id}").get_data(as_text=True)


def test_rules_are_validated_and_run_from_the_page(app, client, owner):
    vip = make_tag("VIP")
    customer = make_customer("老VIP")
    customer.created_at = utcnow() - timedelta(days=40)
    tag_customer(customer, vip)
    login(client, owner)
    blank = {"segment_id": "", "tag_id": "", "assignee_id": "", "entry_kind": "", "active": "y"}
    form = {**blank, "name": "Return", "kind": "return", "days": "30"}
    response = client.post("/settings/reminders/new", data=form)
    assert response.status_code == 422
    assert "Choose visit or purchase." in response.get_data(as_text=True)
    response = client.post("/settings/reminders/new", data={**form, "days": "abc"})
    assert "Enter a whole number." in response.get_data(as_text=True)
    form = {
        **blank,
        "name": "VIP calls",
        "kind": "no_contact",
        "days": "15",
        "tag_id": str(vip.id),
        "active": "y",
    }
    assert client.post("/settings/reminders/new", data=form).status_code == 302
    clash = client.post("/settings/reminders/new", data={**form, "name": "vip CALLS"})
    assert "Another rule already has this name." in clash.get_data(as_text=True)
    client.post("/reminders/run")
    rule = db.session.scalar(sa.select(ReminderRule))
    listing = client.get(f"/reminders/?rule={rule.id}").get_data(as_text=True)
    assert "老VIP" in listing and "VIP, never contacted" in listing
    assert "Email this 1 person" in listing
    compose = client.get("/campaigns/new?q=reminder:%22VIP+calls%22").get_data(as_text=True)
    assert "老VIP" in compose or "1" in compose


def test_a_teacher_viewing_alerts_is_audited_once_per_view(app, client, owner):
    teacher = make_user("teacher")
    child = make_customer("花生寶寶")
    make_alert(child)
    calm = make_customer("沒事")
    login(client, teacher)
    client.get(f"/today/{child.id}")
    client.get(f"/customers/{child.id}")
    client.get(f"/today/{calm.id}")
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "alert.view")
    ).all()
    assert [(e.user_id, e.target_id) for e in events] == [(teacher.id, child.id)] * 2


def test_my_day_counts_every_reminder_and_shows_the_first_few(app, client, owner):
    desk = make_user("frontdesk")
    rule = ReminderRule(name="久未聯絡", kind="no_contact", days=30)
    db.session.add(rule)
    db.session.commit()
    today = shop_context(db.session).today  # "due today" is the shop's day
    for number in range(45):
        customer = make_customer(f"久未聯絡 {number}")
        db.session.add(
            Reminder(customer_id=customer.id, rule_id=rule.id, occasion=f"o{number}",
                     due_date=today - timedelta(days=3), text="打個電話")
        )  # fmt: skip
    for number in range(3):
        db.session.add(
            Reminder(customer_id=make_customer(f"今天 {number}").id, due_date=today, text="回電")
        )
    db.session.commit()
    login(client, desk)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"<strong>3</strong> due today", page)
    assert re.search(r"<strong>45</strong> overdue", page)  # all of them, not what is shown
    assert page.count('class="reminder-customer"') == 3 + 20
    assert f'href="/reminders/?rule={rule.id}">See all 45</a>' in page


def _seventy_three_due_today(desk, owner):
    """70 made by a rule, 2 added by hand for anyone, and last the one the owner gave the desk
    by name: all due today."""
    rule = ReminderRule(name="生日前一週", kind="birthday", days=7)
    db.session.add(rule)
    db.session.commit()
    today = shop_context(db.session).today
    for number in range(70):
        db.session.add(
            Reminder(customer_id=make_customer(f"規則 {number}").id, rule_id=rule.id,
                     occasion=f"o{number}", due_date=today, text="寄生日卡")
        )  # fmt: skip
    for number in range(2):
        db.session.add(
            Reminder(customer_id=make_customer(f"手動 {number}").id, due_date=today,
                     text="回電", created_by_id=owner.id)
        )  # fmt: skip
    db.session.commit()
    mine = Reminder(customer_id=make_customer("林老闆交代").id, due_date=today,
                    text="把訂金收據交給林太太", assignee_id=desk.id, created_by_id=owner.id)  # fmt: skip
    db.session.add(mine)
    db.session.commit()
    return mine


def test_my_day_shows_what_the_owner_assigned_to_me_first_in_chinese(app, client, owner):
    desk = make_user("frontdesk")
    desk.locale = "zh_Hant"
    db.session.commit()
    mine = _seventy_three_due_today(desk, owner)
    login(client, desk)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"<strong>73</strong> 今天到期", page)
    customers = re.findall(r'class="reminder-customer"[^>]*>([^<]+)<', page)
    assert customers[0] == "林老闆交代"
    assert "把訂金收據交給林太太" in page
    assert page.index("指派給你的") < page.index("今天到期</span>")
    # Today's: the two added by hand before the rule's; 20 shown, the rest said in words.
    assert customers[1:3] == ["手動 0", "手動 1"]
    assert len(customers) == 1 + 20
    assert "還有 52 則：52 則由規則產生。" in page
    assert mine.text in page


def test_my_day_says_what_kind_of_reminders_are_hidden(app, client, owner):
    desk = make_user("frontdesk")
    today = shop_context(db.session).today
    for number in range(23):
        db.session.add(
            Reminder(customer_id=make_customer(f"交辦 {number}").id, assignee_id=desk.id,
                     due_date=today - timedelta(days=number % 2), text="打電話")
        )  # fmt: skip
    db.session.commit()
    login(client, desk)
    page = client.get("/").get_data(as_text=True)
    assert "Assigned to you" in page
    assert "And 3 more: 3 assigned to you." in page
    assert re.search(r"<strong>12</strong> due today", page)
    assert re.search(r"<strong>11</strong> overdue", page)
    # Overdue ones first.
    first = re.findall(r'class="reminder-customer"[^>]*>([^<]+)<', page)[0]
    assert int(first.split()[-1]) % 2 == 1
