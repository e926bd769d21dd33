"""An erased customer never gains data again: every write path is refused with a message."""

import pytest
import sqlalchemy as sa

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
    customer = make_customer("王小明", email="ming@example.com", consent_purposes="marketing")
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
    from app.services import reminders
    from app.services.shop import shop_context

    shop = ensure_shop(db.session)
    customer = db.session.get(Customer, erased)
    assert campaigns.recipient_for(customer, shop.kind).skip_reason == "erased"
    db.session.add(TimelineEntry(customer_id=erased, kind="note", body="sneaky"))
    with pytest.raises(privacy.CustomerErased):
        db.session.flush()
    db.session.rollback()
    rule = reminders.ReminderRule(
        name="every birthday-less", kind="no_contact", days=1, levels="A,B,C", active=True
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
