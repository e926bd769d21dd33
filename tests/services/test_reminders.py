"""Reminder rules with frozen clocks: birthdays over the year end and 29 February, contact
resets, no duplicates, snooze, family birthdays, lapsed and return, segments, the CLI."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import Reminder, ReminderRule, Segment
from app.services import reminders as service
from app.services import segments as seg
from app.services.customers import add_family_member
from tests.factories import make_customer, make_entry, make_tag, make_user, tag_customer


def at(year, month, day, hour=10) -> seg.Context:
    """Shop time (Asia/Taipei, UTC+8) as the rules see it."""
    return seg.Context(
        now=datetime(year, month, day, hour) - timedelta(hours=8), zone="Asia/Taipei"
    )


def rule(**fields) -> ReminderRule:
    fields.setdefault("name", f"rule {fields['kind']}")
    made = ReminderRule(**fields)
    db.session.add(made)
    db.session.commit()
    return made


def open_for(rule_id: int) -> list[Reminder]:
    return list(
        db.session.scalars(
            sa.select(Reminder)
            .where(Reminder.rule_id == rule_id, Reminder.done_at.is_(None))
            .order_by(Reminder.id)
        )
    )


def run(made: ReminderRule, context: seg.Context) -> tuple[int, int]:
    result = service.run_rule(db.session, made, context)
    db.session.commit()
    return result


def test_birthday_across_the_year_end(app):
    soon = make_customer("新年寶寶", birthday=date(2016, 1, 2))
    make_customer("晚一點", birthday=date(2016, 1, 10))
    make_customer("剛過", birthday=date(2016, 12, 27))
    birthdays = rule(kind="birthday", days=7)
    assert run(birthdays, at(2026, 12, 28)) == (1, 0)
    [reminder] = open_for(birthdays.id)
    assert reminder.customer_id == soon.id
    assert reminder.reason["date"] == "2027-01-02"  # next year's birthday, not this year's
    assert reminder.due_date == date(2026, 12, 28)


def test_29_february_birthdays(app):
    leapling = make_customer("閏日", birthday=date(2016, 2, 29))
    birthdays = rule(kind="birthday", days=3)
    # 2027 has no 29 February: the birthday is kept on the 28th.
    assert run(birthdays, at(2027, 2, 25)) == (1, 0)
    [reminder] = open_for(birthdays.id)
    assert (reminder.customer_id, reminder.reason["date"]) == (leapling.id, "2027-02-28")
    # 2028 has one: on 27 February a 1-day window does not reach it, a 2-day one does.
    short = rule(kind="birthday", days=1, name="short")
    assert run(short, at(2028, 2, 27)) == (0, 0)
    assert run(birthdays, at(2028, 2, 27)) == (1, 0)
    assert open_for(birthdays.id)[-1].reason["date"] == "2028-02-29"


def test_family_birthdays_when_asked(app):
    parent = make_customer("王先生")
    add_family_member(
        db.session, parent, {"name": "小寶", "relation": "兒子", "birthday": date(2019, 5, 3)}
    )
    db.session.commit()
    without = rule(kind="birthday", days=5, name="guests only")
    with_family = rule(kind="birthday", days=5, include_family=True, name="and family")
    assert run(without, at(2027, 5, 1)) == (0, 0)
    assert run(with_family, at(2027, 5, 1)) == (1, 0)
    [reminder] = open_for(with_family.id)
    assert reminder.customer_id == parent.id
    assert reminder.reason["name"] == "小寶"


def test_no_contact_is_reset_by_a_new_note_and_never_duplicated(app):
    vip = make_tag("VIP")
    quiet = make_customer("安靜的貴賓")
    busy = make_customer("常聯絡")
    other = make_customer("不是VIP")
    for customer in (quiet, busy):
        tag_customer(customer, vip)
    long_ago = datetime(2026, 11, 1)
    for customer in (quiet, busy, other):
        customer.created_at = long_ago - timedelta(days=60)
        make_entry(customer, body="first visit", created_at=long_ago)
    make_entry(busy, body="called", created_at=datetime(2026, 11, 20))
    calls = rule(kind="no_contact", days=15, tag_id=vip.id)

    assert run(calls, at(2026, 11, 24)) == (1, 0)
    [reminder] = open_for(calls.id)
    assert reminder.customer_id == quiet.id
    assert run(calls, at(2026, 11, 24, 18)) == (0, 0)  # a second run adds nothing
    assert len(open_for(calls.id)) == 1

    # Logging a call resets it: the reminder closes itself at the next run.
    make_entry(quiet, body="phoned, all good", kind="call", created_at=datetime(2026, 11, 25))
    assert run(calls, at(2026, 11, 25, 12)) == (0, 1)
    assert open_for(calls.id) == []
    assert db.session.get(Reminder, reminder.id).done_how == "resolved"
    # Fifteen quiet days later both VIPs are due: for the quiet one a new occasion.
    assert run(calls, at(2026, 12, 11)) == (2, 0)
    assert {r.customer_id for r in open_for(calls.id)} == {quiet.id, busy.id}


def test_a_reminder_marked_done_is_not_made_again(app):
    make_customer("壽星", birthday=date(2016, 6, 10))
    birthdays = rule(kind="birthday", days=7)
    run(birthdays, at(2027, 6, 5))
    [reminder] = open_for(birthdays.id)
    service.mark_done(db.session, reminder, None, datetime(2027, 6, 5))
    db.session.commit()
    assert run(birthdays, at(2027, 6, 6)) == (0, 0)
    assert run(birthdays, at(2028, 6, 5)) == (1, 0)  # next year is a new occasion


def test_snooze_moves_the_due_date_without_a_duplicate(app):
    make_customer("壽星", birthday=date(2016, 6, 10))
    birthdays = rule(kind="birthday", days=7)
    context = at(2027, 6, 5)
    run(birthdays, context)
    [reminder] = open_for(birthdays.id)
    service.snooze(db.session, reminder, 1, context.today)
    db.session.commit()
    assert reminder.due_date == date(2027, 6, 6)
    assert service.open_reminders(db.session, due_by=context.today) == []
    service.snooze(db.session, reminder, 7, context.today)
    db.session.commit()
    assert reminder.due_date == date(2027, 6, 13)
    assert run(birthdays, at(2027, 6, 7)) == (0, 0)
    assert [r.id for r in service.open_reminders(db.session, due_by=date(2027, 6, 13))] == [
        reminder.id
    ]


def test_lapsed_regulars_by_level(app):
    regular = make_customer("老主顧", level="A")
    make_customer("新客", level="C")
    for customer in db.session.scalars(sa.select(type(regular))):
        customer.created_at = datetime(2026, 1, 1)
    make_entry(regular, kind="visit", body="stayed two nights", created_at=datetime(2026, 3, 1))
    lapsed = rule(kind="lapsed", days=180, levels=["A", "B"])
    assert run(lapsed, at(2026, 8, 1)) == (0, 0)  # 153 days
    assert run(lapsed, at(2026, 9, 1)) == (1, 0)  # 184 days
    [reminder] = open_for(lapsed.id)
    assert reminder.customer_id == regular.id
    assert reminder.reason == {"code": "lapsed", "last": "2026-03-01T00:00:00", "level": "A"}


def test_return_after_a_purchase_mentioning_a_keyword(app):
    wine = make_customer("愛酒人")
    tea = make_customer("愛茶人")
    make_entry(wine, kind="purchase", body="紅酒 x2", created_at=datetime(2026, 1, 10))
    make_entry(tea, kind="purchase", body="烏龍茶", created_at=datetime(2026, 1, 10))
    repurchase = rule(kind="return", days=60, entry_kind="purchase", keyword="紅酒")
    assert run(repurchase, at(2026, 3, 1)) == (0, 0)  # 50 days
    assert run(repurchase, at(2026, 3, 15)) == (1, 0)
    assert open_for(repurchase.id)[0].customer_id == wine.id
    # A new purchase closes it; a guest gone for years is the lapsed rule's job, not this one.
    make_entry(wine, kind="purchase", body="紅酒 x6", created_at=datetime(2026, 3, 16))
    assert run(repurchase, at(2026, 3, 17)) == (0, 1)
    assert run(repurchase, at(2027, 3, 17)) == (0, 0)


def test_a_rule_can_target_a_saved_segment(app):
    vip = make_tag("VIP")
    chosen = make_customer("分群內", birthday=date(2016, 6, 10))
    make_customer("分群外", birthday=date(2016, 6, 10))
    tag_customer(chosen, vip)
    segment = Segment(name="VIPs", expression="tag:VIP")
    db.session.add(segment)
    db.session.commit()
    birthdays = rule(kind="birthday", days=7, segment_id=segment.id)
    assert run(birthdays, at(2027, 6, 5)) == (1, 0)
    assert open_for(birthdays.id)[0].customer_id == chosen.id


def test_the_reminder_atom_names_exactly_the_due_customers(app):
    due = make_customer("壽星", birthday=date(2016, 6, 10))
    make_customer("不是", birthday=date(2016, 9, 10))
    birthdays = rule(kind="birthday", days=7, name="Birthday card")
    context = at(2027, 6, 5)
    run(birthdays, context)
    query = seg.customers_query(db.session, 'reminder:"birthday card"', context)
    assert [c.id for c in db.session.scalars(query)] == [due.id]


def test_manual_reminders_are_checked(app):
    customer = make_customer()
    import pytest

    with pytest.raises(service.ReminderError):
        service.add_reminder(
            db.session,
            customer,
            text="  ",
            due_date=date(2027, 1, 1),
            assignee_id=None,
            created_by=None,
        )
    with pytest.raises(service.ReminderError):
        service.add_reminder(
            db.session,
            customer,
            text="x" * 301,
            due_date=date(2027, 1, 1),
            assignee_id=None,
            created_by=None,
        )
    db.session.rollback()
    desk = make_user("frontdesk")
    made = service.add_reminder(
        db.session,
        customer,
        text="Call back",
        due_date=date(2027, 1, 1),
        assignee_id=desk.id,
        created_by=desk,
    )
    db.session.commit()
    assert service.open_reminders(db.session, assignee_id=desk.id)[0].id == made.id


def test_the_command_runs_every_rule_on_the_real_clock(app):
    make_customer("壽星", birthday=date(2016, 12, 30))
    rule(kind="birthday", days=7)
    runner = app.test_cli_runner()
    with time_machine.travel(datetime(2026, 12, 26, 3, 0), tick=False):  # 11:00 in Taipei
        first = runner.invoke(args=["reminders", "run"])
        second = runner.invoke(args=["reminders", "run"])
    assert "1 new" in first.output, first.output
    assert "0 new" in second.output
