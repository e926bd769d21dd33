"""The feed: entries, last contact, revisions, pins, alerts and paging."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.extensions import db
from app.services import timeline as service
from tests.factories import make_alert, make_customer, make_entry, make_user


def test_last_contact_follows_the_newest_entry(app):
    customer = make_customer()
    assert customer.last_contact_at is None
    old = utcnow() - timedelta(days=30)
    make_entry(customer, body="old", created_at=old)
    assert customer.last_contact_at == old
    make_entry(customer, body="new")
    assert customer.last_contact_at > old
    newest = customer.last_contact_at
    make_entry(customer, body="back-dated", created_at=old - timedelta(days=1))
    assert customer.last_contact_at == newest


def test_tag_changes_are_not_contact(app):
    from tests.factories import make_tag, tag_customer

    customer = make_customer()
    tag_customer(customer, make_tag("VIP"))
    assert customer.last_contact_at is None


@pytest.mark.parametrize(
    ("body", "code"), [("", "empty"), ("   \n ", "empty"), ("x" * 10_000, "too-long")]
)
def test_bad_bodies_are_refused(app, body, code):
    customer = make_customer()
    with pytest.raises(service.TimelineError) as error:
        service.add_entry(db.session, customer, author=None, kind="note", body=body)
    assert error.value.code == code


def test_edit_keeps_previous_text_with_who_and_when(app):
    author = make_user("teacher")
    customer = make_customer()
    entry = make_entry(customer, author=author, body="first")
    service.edit_entry(db.session, entry, editor=author, body="second")
    service.edit_entry(db.session, entry, editor=author, body="third")
    db.session.commit()
    assert entry.body == "third" and entry.edited_by_id == author.id
    assert [r.body for r in entry.revisions] == ["second", "first"]
    assert all(r.replaced_by_id == author.id for r in entry.revisions)


def test_only_the_author_or_owner_may_edit(app):
    teacher, other, owner = make_user("teacher"), make_user("frontdesk"), make_user("owner")
    entry = make_entry(make_customer(), author=teacher)
    assert service.can_edit(entry, teacher) and service.can_edit(entry, owner)
    assert not service.can_edit(entry, other)


def test_alert_is_pinned_and_resolving_keeps_history(app):
    customer = make_customer()
    alert = make_alert(customer, keywords="花生， Peanut、堅果")
    assert alert.pinned and alert.keywords == ["花生", "peanut", "堅果"]
    assert service.open_alerts_by_customer(db.session, [customer.id])[customer.id] == [alert]
    service.resolve_alert(db.session, alert, actor=None)
    db.session.commit()
    assert not alert.pinned and alert.alert_resolved_at is not None
    assert service.open_alerts_by_customer(db.session, [customer.id]) == {}
    page = service.customer_page(db.session, customer.id)
    assert alert in page.entries


def test_alert_needs_keywords_and_a_known_category(app):
    customer = make_customer()
    with pytest.raises(service.TimelineError):
        service.add_alert(
            db.session, customer, author=None, category="allergy", keywords=" , ", body="x"
        )
    with pytest.raises(service.TimelineError):
        service.add_alert(
            db.session, customer, author=None, category="gossip", keywords="x", body="x"
        )


def test_paging_is_newest_first_without_gaps_or_repeats(app):
    customer = make_customer()
    start = utcnow() - timedelta(days=100)
    same_moment = start + timedelta(days=50)
    for number in range(45):
        moment = same_moment if 20 <= number < 25 else start + timedelta(hours=number)
        make_entry(customer, body=f"entry {number}", created_at=moment)
    seen, cursor = [], None
    while True:
        page = service.customer_page(db.session, customer.id, cursor)
        seen.extend(page.entries)
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 45 and len({e.id for e in seen}) == 45
    keys = [(e.created_at, e.id) for e in seen]
    assert keys == sorted(keys, reverse=True)


def test_pinned_entries_leave_the_stream(app):
    customer = make_customer()
    entry = make_entry(customer, body="remember this")
    service.set_pinned(entry, True)
    db.session.commit()
    assert service.pinned_entries(db.session, customer.id) == [entry]
    assert entry not in service.customer_page(db.session, customer.id).entries


def test_shop_feed_filters(app):
    teacher, desk = make_user("teacher"), make_user("frontdesk")
    customer = make_customer()
    make_entry(customer, author=teacher, body="a", kind="note")
    make_entry(customer, author=desk, body="b", kind="call")
    assert [e.body for e in service.shop_feed(db.session, author_id=teacher.id).entries] == ["a"]
    assert [e.body for e in service.shop_feed(db.session, kind="call").entries] == ["b"]


def test_an_entry_dated_earlier_keeps_when_it_happened_and_when_it_was_written(app):
    """ "I called her yesterday": the shop's local day and time, stored as UTC; never the
    future; today without a time, or a few minutes ago, is simply now."""
    from datetime import date, datetime, time

    from app.models import AuditEvent

    now = datetime(2026, 12, 7, 8, 0)  # 16:00 in Taipei
    zone = "Asia/Taipei"
    yesterday = service.happened_at(date(2026, 12, 6), time(15, 30), zone, now)
    assert yesterday == datetime(2026, 12, 6, 7, 30)
    assert service.happened_at(date(2026, 12, 6), None, zone, now) == datetime(2026, 12, 6, 4, 0)
    assert service.happened_at(None, None, zone, now) is None
    assert service.happened_at(date(2026, 12, 7), None, zone, now) is None  # today: now
    assert service.happened_at(None, time(15, 58), zone, now) is None  # two minutes ago
    assert service.happened_at(None, time(9, 0), zone, now) == datetime(2026, 12, 7, 1, 0)
    for day, clock in ((date(2026, 12, 8), None), (date(2026, 12, 7), time(16, 30))):
        with pytest.raises(service.TimelineError) as problem:
            service.happened_at(day, clock, zone, now)
        assert problem.value.code == "future"
    with pytest.raises(service.TimelineError) as problem:
        service.happened_at(date(1999, 12, 31), None, zone, now)
    assert problem.value.code == "too-old"

    customer = make_customer()
    author = make_user()
    happened = utcnow() - timedelta(days=1)
    entry = service.add_entry(
        db.session, customer, author=author, kind="call", body="她說明天會來", happened=happened
    )
    db.session.commit()
    assert entry.created_at == happened and entry.recorded_at is not None
    assert entry.recorded_at - happened >= timedelta(hours=23)
    assert customer.last_contact_at == happened
    event = db.session.query(AuditEvent).filter_by(action="entry_dated_earlier").one()
    assert event.target_id == entry.id and event.user_id == author.id
    plain = service.add_entry(db.session, customer, author=author, kind="note", body="現在")
    assert plain.recorded_at is None
