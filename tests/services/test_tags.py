"""Tags: stick/peel with timeline events, bulk, rename, merge, delete."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Tag, TimelineEntry, customer_tag
from app.services import tags as service
from tests.factories import make_customer, make_tag, make_user, tag_customer


def test_stick_and_peel_write_timeline_events(app):
    desk = make_user("frontdesk")
    customer = make_customer()
    tag = make_tag("VIP")
    assert service.stick(db.session, customer, tag, actor=desk)
    assert not service.stick(db.session, customer, tag, actor=desk)
    assert service.peel(db.session, customer, tag, actor=desk)
    db.session.commit()
    events = db.session.scalars(
        sa.select(TimelineEntry).where(TimelineEntry.kind == "tag").order_by(TimelineEntry.id)
    ).all()
    assert [(e.body, e.action, e.author_id) for e in events] == [
        ("VIP", "added", desk.id),
        ("VIP", "removed", desk.id),
    ]


def test_get_or_create_is_case_insensitive_and_tidies_spaces(app):
    tag, created = service.get_or_create_tag(db.session, "  wine   club ", "purple")
    assert created and tag.name == "wine club" and tag.colour == "purple"
    again, created_again = service.get_or_create_tag(db.session, "Wine Club")
    assert again.id == tag.id and not created_again
    with pytest.raises(service.TagError):
        service.get_or_create_tag(db.session, "  ")
    with pytest.raises(service.TagError):
        service.get_or_create_tag(db.session, "x" * 61)


def test_merge_moves_customers_without_duplicates(app):
    a, b, c = make_customer("A"), make_customer("B"), make_customer("C")
    vip, very = make_tag("VIP"), make_tag("V.I.P.")
    tag_customer(a, vip)
    tag_customer(b, very)
    tag_customer(c, vip)
    tag_customer(c, very)
    moved = service.merge(db.session, very, vip)
    db.session.commit()
    assert moved == 1
    members = db.session.scalars(
        sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == vip.id)
    ).all()
    assert sorted(members) == sorted([a.id, b.id, c.id])
    assert db.session.scalar(sa.select(Tag).where(Tag.name == "V.I.P.")) is None
    with pytest.raises(service.TagError):
        service.merge(db.session, vip, vip)


def test_rename_refuses_an_existing_name(app):
    make_tag("VIP")
    other = make_tag("Other")
    with pytest.raises(service.TagError):
        service.rename(db.session, other, "vip")
    service.rename(db.session, other, "老客戶")
    assert other.name == "老客戶"


def test_bulk_and_counts(app):
    customers = [make_customer(f"C{n}") for n in range(5)]
    tag = make_tag("活動")
    assert service.bulk(db.session, [c.id for c in customers], tag, add=True, actor=None) == 5
    assert service.bulk(db.session, [customers[0].id], tag, add=False, actor=None) == 1
    db.session.commit()
    assert dict((t.name, n) for t, n in service.counts(db.session))["活動"] == 4


def test_delete_peels_everywhere(app):
    customer = make_customer()
    tag = make_tag("Old")
    tag_customer(customer, tag)
    service.delete(db.session, tag)
    db.session.commit()
    db.session.refresh(customer)
    assert customer.tags == []


def test_suggest_escapes_wildcards(app):
    make_tag("100% fun")
    make_tag("1000 club")
    assert [t.name for t in service.suggest(db.session, "100%")] == ["100% fun"]
