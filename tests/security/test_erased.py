"""An erased customer never gains data again: every write path is refused with a message."""

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import (
    ConsentEvent,
    Customer,
    FamilyMember,
    ImportantDate,
    Reminder,
    TimelineEntry,
    customer_tag,
)
from app.services import campaigns, privacy
from app.services.shop import ensure_shop
from tests.conftest import login
from tests.factories import make_customer, make_tag


@pytest.fixture
def erased(app, owner):
    customer = make_customer("王小明", email="ming@example.com", consent={"marketing"})
    make_tag("VIP")
    privacy.erase(db.session, customer, typed_name="王小明")
    db.session.commit()
    return customer.id


def _counts(customer_id):
    db.session.rollback()
    return {
        model.__name__: db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.customer_id == customer_id)
        )
        for model in (TimelineEntry, FamilyMember, ImportantDate, Reminder, ConsentEvent)
    } | {
        "tags": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(customer_tag)
            .where(customer_tag.c.customer_id == customer_id)
        )
    }


WRITES = [
    ("entries", {"kind": "note", "body": "new note"}),
    ("alerts", {"category": "allergy", "keywords": "花生", "body": "peanuts"}),
    ("tags", {"name": "VIP"}),
    ("family", {"family-name": "媽媽", "family-email": "mum@example.com"}),
    ("dates", {"date-label": "入學", "date-date": "2026-09-01"}),
    ("reminders", {"text": "call", "due_date": "2026-12-01"}),
    ("consent", {"purpose": "marketing", "action": "given", "method": "paper"}),
    ("edit", {"display_name": "新名字", "version": "99"}),
]


@pytest.mark.parametrize("path, form", WRITES, ids=[w[0] for w in WRITES])
def test_every_write_to_an_erased_customer_is_refused(client, owner, erased, path, form):
    before = _counts(erased)
    name_before = db.session.get(Customer, erased).display_name
    login(client, owner)
    response = client.post(f"/customers/{erased}/{path}", data=form)
    assert response.status_code == 409, (path, response.status_code)
    assert "erased" in response.get_data(as_text=True)
    assert _counts(erased) == before
    db.session.expire_all()
    assert db.session.get(Customer, erased).display_name == name_before


def test_erased_message_in_chinese(client, owner, erased):
    login(client, owner)
    response = client.post(
        f"/customers/{erased}/entries",
        data={"kind": "note", "body": "x"},
        headers={"Accept-Language": "zh-TW"},
    )
    assert response.status_code == 409
    assert "已依本人要求刪除" in response.get_data(as_text=True)


def test_services_jobs_and_campaigns_leave_an_erased_customer_alone(app, erased):
    from app.models import ReminderRule
    from app.services import reminders
    from app.services.shop import shop_context

    shop = ensure_shop(db.session)
    customer = db.session.get(Customer, erased)
    assert campaigns.recipient_for(customer, shop.kind).skip_reason == "erased"
    db.session.add(TimelineEntry(customer_id=erased, kind="note", body="sneaky"))
    with pytest.raises(privacy.CustomerErased):
        db.session.flush()
    db.session.rollback()
    rule = ReminderRule(
        name="every birthday-less", kind="no_contact", days=1, levels=["A", "B", "C"], active=True
    )
    db.session.add(rule)
    db.session.commit()
    reminders.run_rules(db.session, shop_context(db.session))
    db.session.commit()
    assert _counts(erased)["Reminder"] == 0


def test_import_update_does_not_touch_an_erased_customer(app, erased):
    from app.services import importer

    existing = importer.Existing.load(db.session)
    member = db.session.get(Customer, erased).member_number
    assert member.lower() not in existing.by_number


# ---- every POST route that names an erased person's record ---------------------------------

PERSON_ARGUMENTS = {
    "customer_id",
    "stay_id",
    "purchase_id",
    "enrolment_id",
    "entry_id",
    "reminder_id",
    "link_id",
    "member_id",
    "date_id",
    "tag_id",
}
# Everything a form on these routes might send: each route reads what it needs.
EVERY_FIELD = {
    "kind": "note",
    "body": "new words",
    "category": "allergy",
    "keywords": "花生",
    "name": "VIP",
    "text": "call",
    "note": "a new note",
    "due_date": "2026-12-01",
    "days": "7",
    "room_id": "",
    "check_in": "2026-12-20",
    "check_out": "2026-12-22",
    "status": "booked",
    "adults": "2",
    "children": "0",
    "amount": "3000",
    "deposit": "0",
    "source": "phone",
    "product": "普洱茶",
    "day": "2026-12-01",
    "quantity": "3",
    "group": "大班",
    "starts_on": "2026-09-01",
    "weekdays": "12345",
    "reason": "sick",
    "member_id": "",
    "other_name": "阿姨",
    "pinned": "1",
    "display_name": "新名字",
    "version": "99",
    "purpose": "marketing",
    "action": "given",
    "method": "paper",
}


def _erased_with_every_kind_of_row(owner):
    from datetime import date

    from app.models import LineLink
    from app.services import attendance, purchases, reminders, stays, timeline
    from app.services.shop import shop_context

    customer = make_customer("王小明", email="ming@example.com", consent={"marketing"})
    tag = make_tag("VIP")
    customer.tags.append(tag)
    product = purchases.save_product(db.session, None, name="普洱茶", price=1200, points=30)
    purchase = purchases.add_purchase(
        db.session, customer, product=product, day=date(2026, 1, 2), quantity=1,
        today=date(2026, 11, 24), note="likes it strong",
    )  # fmt: skip
    room = stays.save_room(db.session, None, "A")
    stay = stays.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": date(2026, 12, 20), "check_out": date(2026, 12, 22),
         "status": "booked", "adults": 2, "note": "late arrival"},
        actor=None, today=date(2026, 11, 24),
    )  # fmt: skip
    enrolment = attendance.enrol(db.session, customer, group="大班", starts_on=date(2026, 9, 1))
    context = shop_context(db.session)
    attendance.mark_absent(db.session, customer, date(2026, 11, 24), reason="flu at home",
                           actor=owner, zone=context.zone, words={"absent": "Absent"})  # fmt: skip
    note = timeline.add_entry(db.session, customer, author=owner, kind="note", body="a note")
    alert = timeline.add_alert(
        db.session, customer, author=owner, category="allergy", keywords="花生", body="peanuts"
    )
    reminder = reminders.add_reminder(
        db.session,
        customer,
        text="call",
        due_date=date(2026, 12, 1),
        created_by=owner,
        assignee_id=None,
    )
    link = LineLink(customer_id=customer.id, user_id="U" + "1" * 32, linked_at=utcnow())
    db.session.add(link)
    db.session.commit()
    ids = {
        "customer_id": customer.id,
        "stay_id": stay.id,
        "purchase_id": purchase.id,
        "enrolment_id": enrolment.id,
        "entry_id": note.id,
        "reminder_id": reminder.id,
        "link_id": link.id,
        "member_id": 1,
        "date_id": 1,
        "tag_id": tag.id,
    }
    privacy.erase(db.session, customer, typed_name="王小明")
    db.session.commit()
    return ids, alert.id


def _record_of(customer_id):
    """Every row of the person's record, as plain values."""
    db.session.rollback()
    db.session.expire_all()
    rows = {}
    for model in privacy.PERSONAL_ROWS:
        table = model.__table__
        rows[model.__name__] = sorted(
            tuple(str(value) for value in row)
            for row in db.session.execute(
                sa.select(table).where(table.c.customer_id == customer_id)
            )
        )
    customer = Customer.__table__
    rows["customer"] = [
        tuple(str(v) for v in row)
        for row in db.session.execute(sa.select(customer).where(customer.c.id == customer_id))
    ]
    rows["tags"] = sorted(
        row.tag_id
        for row in db.session.execute(
            sa.select(customer_tag).where(customer_tag.c.customer_id == customer_id)
        )
    )
    return rows


def _person_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        names = set(rule.arguments)
        if "POST" not in (rule.methods or ()) or not names or not names <= PERSON_ARGUMENTS:
            continue
        if names == {"tag_id"}:
            continue  # the shop's tags themselves (rename, merge, colour), not a person's
        routes.append(rule)
    return routes


def test_every_post_route_naming_an_erased_persons_row_is_refused(app, client, owner):
    """Stays, purchases, enrolments, attendance, notes, alerts, reminders, tags, LINE links,
    family and dates: adding, editing and deleting are refused once the person is erased."""
    ids, alert_id = _erased_with_every_kind_of_row(owner)
    routes = _person_routes(app)
    endpoints = {rule.endpoint for rule in routes}
    assert {"stays.edit", "stays.delete", "purchases.edit", "purchases.delete", "stays.unenrol",
            "timeline.edit", "timeline.pin", "today.arrive", "customers.remove_tag",
            "reminders.done"} <= endpoints  # fmt: skip
    before = _record_of(ids["customer_id"])
    assert before["Stay"] and before["Purchase"] and before["Attendance"]
    login(client, owner)
    answers = {}
    for rule in routes:
        for entry_id in (ids["entry_id"], alert_id) if "entry_id" in rule.arguments else (None,):
            values = {name: ids[name] for name in rule.arguments}
            if entry_id is not None:
                values["entry_id"] = entry_id
            path = rule.build(values)[1]
            response = client.post(path, data=EVERY_FIELD)
            answers[path] = response.status_code
            # 404: erasure itself removed that row (family, dates, LINE links); erasing again
            # says it was done already.
            expected = (422,) if rule.endpoint == "privacy.erase" else (409, 404)
            assert response.status_code in expected, (path, response.status_code)
            if response.status_code == 409:
                assert "erased" in response.get_data(as_text=True)
    assert _record_of(ids["customer_id"]) == before, answers


def test_services_refuse_edits_and_deletes_of_an_erased_persons_rows(app, owner):
    """Below the views: a job or service that edits or deletes a row of an erased person's
    record fails at flush, whoever calls it."""
    from app.models import Attendance, Purchase, Stay

    ids, _alert_id = _erased_with_every_kind_of_row(owner)
    stay = db.session.get(Stay, ids["stay_id"])
    stay.note = "sneaky"
    with pytest.raises(privacy.CustomerErased):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Purchase, ids["purchase_id"]))
    with pytest.raises(privacy.CustomerErased):
        db.session.flush()
    db.session.rollback()
    attendance = db.session.scalars(
        sa.select(Attendance).where(Attendance.customer_id == ids["customer_id"])
    ).one()
    attendance.status = "present"
    with pytest.raises(privacy.CustomerErased):
        db.session.flush()
    db.session.rollback()


def test_erasure_leaves_no_words_in_stays_purchases_or_attendance(app, owner):
    from app.models import Attendance, Purchase, Reminder, Stay

    ids, _alert_id = _erased_with_every_kind_of_row(owner)
    assert db.session.get(Stay, ids["stay_id"]).note == ""
    assert db.session.get(Purchase, ids["purchase_id"]).note == ""
    attendance = db.session.scalars(
        sa.select(Attendance).where(Attendance.customer_id == ids["customer_id"])
    ).one()
    assert attendance.absence_reason == ""
    assert db.session.get(Reminder, ids["reminder_id"]).done_at is not None  # off every list
