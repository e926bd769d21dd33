"""The migrations that turned comma-separated text columns into rows and typed lists move the
data already saved, both ways (upgrade, then downgrade and upgrade again), on both databases."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import Tag, User
from app.services import tags as tag_service
from tests.factories import make_tag, make_user

BEFORE_LISTS = "c41e7a9d2b60"  # the last revision with comma-separated columns


def _sql(statement: str, **values):
    with db.engine.begin() as connection:
        return connection.execute(sa.text(statement), values)


def _back_to_text() -> None:
    db.session.remove()
    downgrade(revision=BEFORE_LISTS)


def _forward() -> None:
    db.session.remove()
    upgrade()


def test_teachers_classes_become_rows_that_follow_their_tag(app):
    sunflowers = make_tag("向日葵班")
    teacher = make_user("teacher", email="sun@example.com")
    nobody = make_user("teacher", email="none@example.com")
    teacher_id, nobody_id, tag_id = teacher.id, nobody.id, sunflowers.id
    _back_to_text()
    _sql('UPDATE "user" SET group_names = :names WHERE id = :id', names="向日葵班,三年甲班",
         id=teacher_id)  # fmt: skip
    _sql("INSERT INTO staff_session (token, user_id, created_at) VALUES ('t', :id, :at)",
         id=teacher_id, at="2026-12-01 10:00:00")  # fmt: skip
    _forward()
    assert db.session.get(User, teacher_id).groups == ["三年甲班", "向日葵班"]
    # The other rows that point at staff are untouched (no table was rebuilt).
    assert _sql("SELECT count(*) FROM staff_session").scalar() == 1
    assert db.session.get(User, nobody_id).groups == []
    tag_service.rename(db.session, db.session.get(Tag, tag_id), "太陽花班")
    db.session.commit()
    assert db.session.get(User, teacher_id).groups == ["三年甲班", "太陽花班"]

    _back_to_text()
    names = dict(_sql('SELECT id, group_names FROM "user"').all())
    assert names[teacher_id] == "三年甲班,太陽花班" and names[nobody_id] == ""
    _forward()
    assert db.session.get(User, teacher_id).groups == ["三年甲班", "太陽花班"]


def test_comma_separated_lists_become_json_lists_and_back(app):
    from app.models import Campaign, ReminderRule, TagMerge, TimelineEntry
    from tests.factories import make_alert, make_customer

    alert = make_alert(make_customer("小葵"), keywords="花生, 蝦")
    rule = ReminderRule(name="久未來訪", kind="lapsed", days=180, levels=["A", "B"])
    campaign = Campaign(subject="s", body="b", audience="", channels=["line", "sms", "email"])
    merge = TagMerge(source_name="舊", source_colour="blue", had_source=[3, 5], gained_target=[5])
    db.session.add_all([rule, campaign, merge])
    db.session.commit()
    ids = alert.id, rule.id, campaign.id, merge.id
    _back_to_text()
    assert _sql("SELECT alert_keywords FROM timeline_entry WHERE id = :id", id=ids[0]).scalar() == (
        "花生,蝦"
    )
    assert _sql("SELECT levels FROM reminder_rule").scalar() == "A,B"
    assert _sql("SELECT channels FROM campaign").scalar() == "line,sms,email"
    merged = _sql("SELECT had_source, gained_target, teachers_had_source FROM tag_merge").one()
    assert tuple(merged) == ("3,5", "5", "")
    _sql("UPDATE reminder_rule SET levels = 'C'")
    _sql("UPDATE campaign SET channels = 'sms,email'")
    _forward()
    assert db.session.get(TimelineEntry, ids[0]).keywords == ["花生", "蝦"]
    assert db.session.get(ReminderRule, ids[1]).level_list == ["C"]
    assert db.session.get(Campaign, ids[2]).channel_list == ["sms", "email"]
    record = db.session.get(TagMerge, ids[3])
    assert (record.had_source, record.gained_target, record.teachers_had_source) == (
        [3, 5],
        [5],
        [],
    )
    from app.services.timeline import alert_matches

    found = db.session.scalars(sa.select(TimelineEntry.id).where(alert_matches("蝦"))).all()
    assert found == [ids[0]]
    assert not db.session.scalars(sa.select(TimelineEntry.id).where(alert_matches("花"))).all()


def test_customers_consents_become_rows_and_back(app):
    from app.models import Customer
    from tests.factories import make_customer

    both = make_customer("小葵", consent={"service", "marketing"}).id
    service = make_customer("小安", consent={"service"}).id
    none = make_customer("小樂", consent=set()).id
    db.session.remove()
    downgrade(revision="d7d9bf09e7fd")
    texts = dict(_sql("SELECT id, consent_purposes FROM customer").all())
    assert (texts[both], texts[service], texts[none]) == ("marketing,service", "service", "")
    _sql("UPDATE customer SET consent_purposes = 'marketing' WHERE id = :id", id=none)
    _forward()
    assert db.session.get(Customer, both).consents == {"marketing", "service"}
    assert db.session.get(Customer, service).consents == {"service"}
    assert db.session.get(Customer, none).consents == {"marketing"}
    person = db.session.get(Customer, both)
    assert {row.given_at for row in person.consent_rows} == {person.consent_given_at}


def test_childrens_ages_become_a_list_of_numbers_and_back(app):
    """Issue 23: "6, 9" / 6、9 → [6, 9]; text that is not ages ("six") → [] and kept, as
    typed, in the stay's note; downgrade writes "6, 9" back."""
    from datetime import date

    from app.models import Stay
    from app.services.shop import ensure_shop
    from tests.factories import make_customer

    ensure_shop(db.session).default_locale = "zh_Hant"
    guest = make_customer("林美華")
    stays = []
    for n in range(4):
        stay = Stay(customer_id=guest.id, check_in=date(2025, 3, 1 + 2 * n),
                    check_out=date(2025, 3, 2 + 2 * n), status="stayed",
                    note="要靠窗" if n == 2 else "")  # fmt: skip
        db.session.add(stay)
        stays.append(stay)
    db.session.commit()
    ids = [stay.id for stay in stays]
    db.session.remove()
    downgrade(revision="e3a1c5d7f9b2")  # the revision before the list
    for stay_id, typed in zip(ids, ("6, 9", "6、9", "six", ""), strict=True):
        _sql("UPDATE stay SET children_ages = :typed WHERE id = :id", typed=typed, id=stay_id)
    _forward()
    read = {
        stay.id: (stay.children_ages, stay.note) for stay in db.session.scalars(sa.select(Stay))
    }
    assert read[ids[0]] == ([6, 9], "") and read[ids[1]] == ([6, 9], "")
    assert read[ids[2]] == ([], "要靠窗 · 孩子年齡（原文）：six")
    assert read[ids[3]] == ([], "")

    db.session.remove()
    downgrade(revision="e3a1c5d7f9b2")
    typed = dict(_sql("SELECT id, children_ages FROM stay").all())
    assert [typed[stay_id] for stay_id in ids] == ["6, 9", "6, 9", "", ""]
    _forward()
    assert db.session.get(Stay, ids[0]).children_ages == [6, 9]
