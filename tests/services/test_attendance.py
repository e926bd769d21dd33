"""Attendance: who is expected, one row per child per day, pickups checked against guardians."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Attendance, TimelineEntry
from app.services import attendance as service
from app.services.customers import add_family_member
from app.services.reports import attendance as attendance_reports
from tests.factories import make_customer

WORDS = {"arrived": "到班 %(time)s", "picked_up": "%(time)s 由 %(who)s 接回",
         "absent": "請假", "not_listed": "（非家長）"}  # fmt: skip
TUESDAY = date(2026, 11, 24)


def test_expected_children_follow_their_enrolment(app):
    every_day, mondays, ended, none = (make_customer(n) for n in ("甲", "乙", "丙", "丁"))
    service.enrol(db.session, every_day, group="A", starts_on=date(2026, 9, 1), weekdays="12345")
    service.enrol(db.session, mondays, group="A", starts_on=date(2026, 9, 1), weekdays="1")
    service.enrol(db.session, ended, group="A", starts_on=date(2026, 9, 1),
                  ends_on=date(2026, 10, 31))  # fmt: skip
    ids = [c.id for c in (every_day, mondays, ended, none)]
    assert service.expected_today(db.session, ids, TUESDAY) == {every_day.id, none.id}
    assert service.expected_today(db.session, ids, date(2026, 11, 29)) == set()  # a Sunday
    with pytest.raises(service.AttendanceError):
        service.enrol(db.session, none, group="A", starts_on=TUESDAY, weekdays="89")


def test_one_row_a_day_pickups_checked_and_the_timeline_kept_in_step(app):
    child = make_customer("林小明")
    mother = add_family_member(db.session, child, {"name": "林媽媽", "relation": "母親",
                                                   "is_guardian": True})  # fmt: skip
    other_child = make_customer("王小華")
    strangers_mum = add_family_member(db.session, other_child, {"name": "王媽媽",
                                                                "is_guardian": True})  # fmt: skip
    db.session.commit()
    args = {"actor": None, "zone": "Asia/Taipei", "words": WORDS}
    with pytest.raises(service.AttendanceError):  # not here yet
        service.check_out(db.session, child, TUESDAY, member_id=mother.id, other_name="", **args)
    db.session.rollback()
    service.check_in(db.session, child, TUESDAY, **args)
    service.check_in(db.session, child, TUESDAY, **args)  # a second tap changes nothing
    with pytest.raises(service.AttendanceError):  # another child's mother
        service.check_out(
            db.session, child, TUESDAY, member_id=strangers_mum.id, other_name="", **args
        )
    with pytest.raises(service.AttendanceError):  # nobody named
        service.check_out(db.session, child, TUESDAY, member_id=None, other_name=" ", **args)
    row = service.check_out(db.session, child, TUESDAY, member_id=None, other_name="張叔叔", **args)
    db.session.commit()
    assert row.unexpected_pickup and row.picked_up_by_other == "張叔叔"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 1
    entry = db.session.get(TimelineEntry, row.entry_id)
    assert entry.kind == "visit" and "由 張叔叔 接回" in entry.body and "（非家長）" in entry.body
    service.mark_absent(db.session, child, TUESDAY, reason="感冒", **args)  # a correction
    db.session.commit()
    entry = db.session.get(TimelineEntry, row.entry_id)
    assert (entry.kind, entry.body) == ("note", "請假: 感冒")
    report = attendance_reports.month_report(db.session, date(2026, 11, 1), date(2026, 11, 30))
    assert [(r.name, r.present, r.absent) for r in report] == [("林小明", 0, 1)]


def test_enrolment_from_the_childs_page(app, client):
    from app.models import Enrolment
    from app.services.shop import ensure_shop
    from tests.conftest import login
    from tests.factories import make_user

    ensure_shop(db.session).kind = "afterschool"
    db.session.commit()
    desk = make_user("frontdesk")
    make_user("owner")
    child = make_customer("林小明")
    login(client, desk)
    assert "Not enrolled: expected Monday to Friday." in client.get(
        f"/customers/{child.id}"
    ).get_data(as_text=True)
    refused = client.post(
        f"/customers/{child.id}/enrolments",
        data={"enrolment-group": "大班", "enrolment-starts_on": "2026-09-01",
              "enrolment-ends_on": "2026-08-01", "enrolment-weekdays": ["1", "3"]},
    )  # fmt: skip
    assert refused.status_code == 422 and "The end is before the start." in refused.get_data(
        as_text=True
    )
    none = client.post(
        f"/customers/{child.id}/enrolments",
        data={"enrolment-group": "大班", "enrolment-starts_on": "2026-09-01"},
    )
    assert "Choose at least one day of the week." in none.get_data(as_text=True)
    client.post(
        f"/customers/{child.id}/enrolments",
        data={"enrolment-group": "大班", "enrolment-starts_on": "2026-09-01",
              "enrolment-weekdays": ["1", "3", "5"]},
    )  # fmt: skip
    page = client.get(f"/customers/{child.id}").get_data(as_text=True)
    assert "大班" in page and "Mon、Wed、Fri" in page
    enrolment = db.session.scalar(sa.select(Enrolment))
    assert enrolment.weekdays == "135"
    assert service.expected_today(db.session, [child.id], TUESDAY) == set()
