"""Duplicates: the finder's keys (phone written two ways, email, Traditional/Simplified and
full-width names, birthday), and merges that move every row, handle clashes, are refused for
erased people, stale pages and the same person, and undo exactly."""

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Attendance,
    AuditEvent,
    Campaign,
    ConsentEvent,
    Customer,
    CustomerMerge,
    CustomField,
    CustomFieldValue,
    Delivery,
    Enrolment,
    FamilyMember,
    ImportantDate,
    LineCode,
    LineLink,
    Product,
    Purchase,
    Reminder,
    ReminderRule,
    Room,
    Stay,
    StayPayment,
    TimelineEntry,
    customer_tag,
)
from app.services import merging, privacy
from app.services.customers import normal_phone
from app.services.search import search
from tests.factories import make_customer, make_entry, make_tag, make_user, tag_customer


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("+886 912-345-679", "0912345679"),
        ("886912345679", "0912345679"),
        (912345679, "0912345679"),
        (912345679.0, "0912345679"),
        ("0912345679", "0912345679"),
        ("(02) 2345-6789", "0223456789"),
        ("+886 2 2345 6789", "0223456789"),
        ("12345", "12345"),
        ("", None),
        (None, None),
    ],
)
def test_phones_are_normalised_the_taiwan_way(typed, normal):
    assert normal_phone(typed) == normal


def test_name_keys_ignore_width_spaces_and_simplified_characters():
    assert merging.name_key("陳怡君") == merging.name_key("陈怡君")
    assert merging.name_key("陳 怡君") == merging.name_key("陳怡君")
    assert merging.name_key("ＡＭＹ　Ｃｈｅｎ") == merging.name_key("amy chen")
    assert merging.name_key("林小明") != merging.name_key("林小美")


def _reasons(pairs, first, second):
    for pair in pairs:
        if {pair.first.id, pair.second.id} == {first.id, second.id}:
            return dict(pair.reasons)
    return None


def test_finder_pairs_same_phone_email_name_and_birthday(app):
    chen = make_customer("陳怡君", phone="0912-345-679", email="yi@example.com")
    chen_simplified = make_customer("陈怡君", phone="+886 912 345 679")
    amy = make_customer("Amy Lin", email=" AMY@example.com")
    amy_again = make_customer("Amy", email="amy@example.com")
    wang = make_customer("王小明", birthday=date(2015, 3, 4))
    wang_typo = make_customer("王小名", birthday=date(2015, 3, 4))
    make_customer("李大華", phone="0933-000-111")
    pairs, total = merging.find_pairs(db.session)
    assert total == 3
    assert _reasons(pairs, chen, chen_simplified) == {
        "phone": "0912345679",
        "name": "陳怡君/陈怡君",
    }
    assert _reasons(pairs, amy, amy_again) == {"email": "amy@example.com"}
    assert _reasons(pairs, wang, wang_typo) == {"birthday": "2015-03-04"}
    # The strongest evidence comes first.
    assert {pairs[0].first.id, pairs[0].second.id} == {chen.id, chen_simplified.id}


def test_finder_leaves_out_pairs_marked_different_erased_and_merged(app):
    first, second = make_customer("林小美"), make_customer("林小美")
    erased = make_customer("林小美")
    privacy.erase(db.session, erased, typed_name="林小美")
    db.session.commit()
    assert merging.find_pairs(db.session)[1] == 1
    assert merging.mark_not_duplicate(db.session, second.id, first.id, actor_id=None)
    db.session.commit()
    assert not merging.mark_not_duplicate(db.session, first.id, second.id, actor_id=None)
    assert merging.find_pairs(db.session) == ([], 0)
    third, fourth = make_customer("張三"), make_customer("張三")
    merging.merge(db.session, third.id, fourth.id)
    db.session.commit()
    assert merging.find_pairs(db.session) == ([], 0)


def test_marking_needs_two_different_people(app):
    one = make_customer("甲")
    with pytest.raises(merging.MergeError) as error:
        merging.mark_not_duplicate(db.session, one.id, one.id, actor_id=None)
    assert error.value.status == 422
    with pytest.raises(merging.MergeError) as error:
        merging.mark_not_duplicate(db.session, one.id, 99999, actor_id=None)
    assert error.value.code == "missing"


def test_every_table_with_a_customer_key_is_handled_by_the_merge(app):
    """A new table that points at a customer must be moved by a merge (or be left in place
    on purpose, with the reason written in merging.moving.LEFT_IN_PLACE)."""
    pointing = {
        table.name
        for table in db.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == "customer"
    }
    assert pointing - merging.HANDLED_TABLES == set()
    assert merging.HANDLED_TABLES - pointing == set()


def _everything_of(customer, other_customer):
    """One row of every kind for `customer` (and, for the clashes, the same for the
    survivor `other_customer`)."""
    owner = make_user("owner")
    field = CustomField(key="school", label="學校")
    product = Product(name="英文繪本", price=300)
    room = Room(name="海景房")
    rule = ReminderRule(name="生日", kind="birthday")
    campaign = Campaign(subject="s", body="b", audience="")
    db.session.add_all([field, product, room, rule, campaign])
    db.session.flush()
    entry = TimelineEntry(customer_id=customer.id, kind="note", body="第二份紀錄的筆記")
    stay = Stay(customer_id=customer.id, room_id=room.id, check_in=date(2026, 1, 2),
                check_out=date(2026, 1, 3))  # fmt: skip
    db.session.add_all([entry, stay])
    db.session.flush()
    rows = [
        FamilyMember(customer_id=customer.id, name="陳媽媽", relation="媽媽"),
        ImportantDate(customer_id=customer.id, label="入學", date=date(2025, 9, 1)),
        CustomFieldValue(customer_id=customer.id, field_id=field.id, value="光復國小"),
        LineLink(customer_id=customer.id, user_id="U" + "1" * 32),
        LineCode(
            code_hash="h" * 64, customer_id=customer.id, expires_at=datetime(2030, 1, 1)
        ),  # fmt: skip
        ConsentEvent(customer_id=customer.id, purpose="service", action="given"),
        Enrolment(customer_id=customer.id, group_name="大班", starts_on=date(2026, 9, 1)),
        Attendance(customer_id=customer.id, day=date(2026, 10, 1)),
        Delivery(campaign_id=campaign.id, customer_id=customer.id, status="sent"),
        Purchase(customer_id=customer.id, product_id=product.id, purchased_on=date(2026, 2, 1)),
        Reminder(
            customer_id=customer.id, rule_id=rule.id, occasion="2026", due_date=date(2026, 3, 4)
        ),  # fmt: skip
        Reminder(customer_id=customer.id, text="回電", due_date=date(2026, 3, 5)),
        StayPayment(
            stay_id=stay.id, customer_id=customer.id, paid_on=date(2026, 1, 1), amount=1000
        ),  # fmt: skip
    ]
    db.session.add_all(rows)
    db.session.commit()
    tag_customer(customer, make_tag("VIP"))
    return owner


def _owners(model) -> dict[int, int]:
    table = model.__table__
    key = list(table.primary_key.columns)[0]
    return dict(db.session.execute(sa.select(key, table.c.customer_id)).all())


MODELS = [
    TimelineEntry, FamilyMember, ImportantDate, CustomFieldValue, LineLink, LineCode,
    ConsentEvent, Enrolment, Attendance, Delivery, Purchase, Reminder, Stay, StayPayment,
]  # fmt: skip


def test_merge_moves_every_row_and_undo_puts_each_back(app):
    survivor = make_customer("陳怡君", phone="0912345679", consent={"service"})
    other = make_customer("陈怡君", email="yi@example.com", consent={"service", "marketing"})
    owner = _everything_of(other, survivor)
    before = {model: _owners(model) for model in MODELS}
    assert all(other.id in owners.values() for owners in before.values())
    profile_before = {name: getattr(survivor, name) for name in merging.MERGE_FIELDS}

    record = merging.merge(db.session, survivor.id, other.id, actor=owner, ip="127.0.0.1")
    db.session.commit()
    for model in MODELS:
        assert set(_owners(model).values()) <= {survivor.id}, model.__tablename__
    tags = db.session.scalars(
        sa.select(customer_tag.c.customer_id).where(customer_tag.c.customer_id == other.id)
    ).all()
    assert tags == []
    db.session.refresh(survivor)
    db.session.refresh(other)
    assert survivor.email == "yi@example.com"  # a blank filled from the other
    assert survivor.phone == "0912345679"
    assert survivor.consents == {"service", "marketing"}
    assert [tag.name for tag in survivor.tags] == ["VIP"]
    assert other.merged_into_id == survivor.id and other.archived_at is not None
    assert [c.id for c in search(db.session, "怡君").customers] == [survivor.id]
    assert [c.id for c in search(db.session, "怡君", include_archived=True).customers] == [
        survivor.id
    ]
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "customer.merge"))
    assert audit.target_id == survivor.id and audit.user_id == owner.id

    merging.undo(db.session, record.id, actor=owner)
    db.session.commit()
    assert {model: _owners(model) for model in MODELS} == before
    db.session.refresh(survivor)
    db.session.refresh(other)
    assert {name: getattr(survivor, name) for name in merging.MERGE_FIELDS} == profile_before
    assert survivor.consents == {"service"}
    assert survivor.tags == [] and [tag.name for tag in other.tags] == ["VIP"]
    assert other.merged_into_id is None and other.archived_at is None
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "customer.unmerge"))
        == 1
    )
    with pytest.raises(merging.MergeError) as error:
        merging.undo(db.session, record.id)
    assert error.value.code == "undone"


def test_each_field_is_chosen_from_either_side(app):
    survivor = make_customer("陳怡君", email="old@example.com", nickname="小君")
    other = make_customer("陈怡君", email="new@example.com", birthday=date(1990, 5, 1))
    merging.merge(db.session, survivor.id, other.id, choices={"email": "other",
                                                              "display_name": "keep"})  # fmt: skip
    db.session.commit()
    db.session.refresh(survivor)
    assert (survivor.display_name, survivor.email, survivor.nickname, survivor.birthday) == (
        "陳怡君", "new@example.com", "小君", date(1990, 5, 1),
    )  # fmt: skip
    with pytest.raises(merging.MergeError) as error:
        merging.merge(db.session, survivor.id, make_customer("x").id, choices={"version": "other"})
    assert error.value.code == "choice"


def test_clashes_keep_the_survivors_row_and_undo_restores_the_others(app):
    survivor = make_customer("王小明")
    other = make_customer("王小明")
    tag = make_tag("VIP")
    tag_customer(survivor, tag)
    tag_customer(other, tag)
    tag_customer(other, make_tag("素食"))
    rule = ReminderRule(name="生日", kind="birthday")
    db.session.add(rule)
    db.session.flush()
    for person in (survivor, other):
        db.session.add_all([
            ImportantDate(customer_id=person.id, label="入學", date=date(2025, 9, 1)),
            LineLink(customer_id=person.id, user_id="U" + "2" * 32),
            Attendance(customer_id=person.id, day=date(2026, 10, 1)),
            Reminder(customer_id=person.id, rule_id=rule.id, occasion="2026",
                     due_date=date(2026, 3, 4)),
        ])  # fmt: skip
    db.session.add(LineLink(customer_id=other.id, user_id="U" + "3" * 32))
    db.session.commit()

    record = merging.merge(db.session, survivor.id, other.id)
    db.session.commit()
    db.session.refresh(survivor)
    assert sorted(tag.name for tag in survivor.tags) == ["VIP", "素食"]
    assert len(survivor.important_dates) == 1
    assert sorted(link.user_id for link in survivor.line_links) == ["U" + "2" * 32, "U" + "3" * 32]
    kept = record.moved["kept_on_other"]
    assert set(kept) == {"important_date", "line_link", "attendance", "reminder"}
    # The other's copy of the rule's reminder is not a second thing to do.
    open_reminders = db.session.scalars(
        sa.select(Reminder.customer_id).where(Reminder.done_at.is_(None))
    ).all()
    assert open_reminders == [survivor.id]

    merging.undo(db.session, record.id)
    db.session.commit()
    db.session.refresh(other)
    db.session.refresh(survivor)
    assert sorted(tag.name for tag in other.tags) == ["VIP", "素食"]
    assert [tag.name for tag in survivor.tags] == ["VIP"]
    assert len(other.line_links) == 2 and len(survivor.line_links) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Reminder.done_at.is_(None))) == 2


def test_refused_for_the_same_person_erased_merged_and_changed_records(app):
    first, second = make_customer("陳怡君"), make_customer("陈怡君")
    erased = make_customer("林小美")
    privacy.erase(db.session, erased, typed_name="林小美")
    db.session.commit()

    def refused(*args, **kwargs) -> merging.MergeError:
        with pytest.raises(merging.MergeError) as error:
            merging.merge(db.session, *args, **kwargs)
        db.session.rollback()
        return error.value

    assert (refused(first.id, first.id).code, refused(first.id, first.id).status) == ("same", 422)
    assert (refused(first.id, erased.id).code, refused(first.id, erased.id).status) == (
        "erased", 409,
    )  # fmt: skip
    assert refused(erased.id, first.id).code == "erased"
    assert refused(first.id, 99999).code == "missing"
    versions = (first.version, second.version)
    make_entry(second, body="a note does not change the version")
    assert merging.merge_preview(db.session, first.id, second.id)["other"].id == second.id
    from app.services.customers import update_customer

    update_customer(db.session, second, {"nickname": "君"}, expected_version=second.version,
                    actor=None)  # fmt: skip
    db.session.commit()
    error = refused(first.id, second.id, versions=versions)
    assert (error.code, error.status) == ("changed", 409)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerMerge)) == 0
    merging.merge(db.session, first.id, second.id, versions=(first.version, second.version))
    db.session.commit()
    assert refused(first.id, second.id).code == "merged"
    third = make_customer("陳怡君")
    assert refused(second.id, third.id).code == "merged"


def test_undo_keeps_a_field_edited_since_the_merge(app):
    from app.services.customers import update_customer

    survivor = make_customer("陳怡君")
    other = make_customer("陈怡君", email="yi@example.com", phone="0912345679")
    record = merging.merge(db.session, survivor.id, other.id)
    db.session.commit()
    db.session.refresh(survivor)
    update_customer(db.session, survivor, {"phone": "0922000111"},
                    expected_version=survivor.version, actor=None)  # fmt: skip
    db.session.commit()
    merging.undo(db.session, record.id)
    db.session.commit()
    db.session.refresh(survivor)
    assert (survivor.phone, survivor.email) == ("0922000111", None)


def test_merged_record_is_hidden_from_the_lists(app):
    from app.services.customers import list_query

    survivor, other = make_customer("陳怡君"), make_customer("陈怡君")
    merging.merge(db.session, survivor.id, other.id)
    db.session.commit()
    ids = db.session.scalars(list_query(db.session, "", None)).all()
    archived = db.session.scalars(list_query(db.session, "", None, archived=True)).all()
    assert [c.id for c in ids] == [survivor.id] and archived == []
    assert db.session.get(Customer, other.id).merged_into_id == survivor.id


def test_erasing_the_survivor_erases_its_merged_record_too(app):
    survivor, other = make_customer("陳怡君"), make_customer("陈怡君", phone="0912345679")
    merging.merge(db.session, survivor.id, other.id)
    db.session.commit()
    privacy.erase(db.session, survivor, typed_name="陳怡君")
    db.session.commit()
    tombstone = db.session.get(Customer, other.id)
    assert tombstone.erased_at is not None and tombstone.phone is None
    assert tombstone.display_name == f"#{tombstone.member_number}"
