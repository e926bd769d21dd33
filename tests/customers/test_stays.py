"""A homestay's guest book: past stays typed in, found again by filters, arrivals on My day."""

import re
from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Stay, TimelineEntry
from app.services import stays as service
from app.services.reports import stays as stay_reports
from app.services.shop import ensure_shop, shop_context
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_user


def _homestay():
    shop = ensure_shop(db.session)
    shop.kind = "homestay"
    db.session.commit()
    room = service.save_room(db.session, None, "海景雙人房")
    db.session.commit()
    return room


def _stay(client, customer, check_in, check_out, **fields):
    data = {"stay-check_in": check_in, "stay-check_out": check_out, "stay-status": "stayed",
            "stay-adults": "2", "stay-children": "0", "stay-amount": "", "stay-deposit": "",
            "stay-room_id": "", "stay-source": "", "stay-note": ""}  # fmt: skip
    data.update({f"stay-{key}": value for key, value in fields.items()})
    return client.post(f"/customers/{customer.id}/stays", data=data)


def test_three_past_stays_from_the_guest_book_then_found_by_a_filter(app, client, owner):
    room = _homestay()
    today = shop_context(db.session).today
    next_month = (today.replace(day=1) + timedelta(days=32)).month
    guest = make_customer("林美華", birthday=date(1980, next_month, 5))
    recent = make_customer("陳先生", birthday=date(1975, next_month, 9))
    never = make_customer("王小姐", birthday=date(1990, next_month, 1))
    login(client, owner)
    for check_in, check_out, amount in (
        ("2019-04-01", "2019-04-03", "5200"),
        ("2021-10-10", "2021-10-11", "2600"),
        ("2023-05-01", "2023-05-04", "8100"),
    ):
        response = _stay(client, guest, check_in, check_out, amount=amount, room_id=str(room.id))
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    _stay(client, guest, "2024-01-01", "2024-01-02", status="cancelled")  # never counted
    _stay(client, recent, (today - timedelta(days=30)).isoformat(),
          (today - timedelta(days=28)).isoformat())  # fmt: skip
    found = client.get("/customers/?q=" + "stayed > 730d and birthday:next_month").get_data(
        as_text=True
    )
    assert "林美華" in found and "陳先生" not in found and "王小姐" not in found
    assert "1 guest" in found
    # The guest page: figures without the cancelled stay, and each stay on the timeline.
    page = client.get(f"/customers/{guest.id}").get_data(as_text=True)
    assert "3 stays · 6 nights · NT$15,900" in page
    assert "last stay" in page and "Cancelled" in page
    visits = db.session.scalars(
        sa.select(TimelineEntry.created_at).where(
            TimelineEntry.customer_id == guest.id, TimelineEntry.kind == "visit"
        )
    ).all()
    assert sorted(v.date() for v in visits) == [
        date(2019, 4, 1),
        date(2021, 10, 10),
        date(2023, 5, 1),
    ]
    assert never.id not in {c.id for c in _matching("stayed > 730d")}
    assert {c.id for c in _matching("stays >= 3")} == {guest.id}
    assert {c.id for c in _matching("has:stay")} == {guest.id, recent.id}


def _matching(text):
    from app.services import segments as seg

    return db.session.scalars(seg.customers_query(db.session, text, shop_context(db.session)))


def test_bad_stays_are_refused_with_the_reason_and_nothing_saved(app, client, owner):
    _homestay()
    guest = make_customer("林美華")
    login(client, owner)
    future = (date.today() + timedelta(days=20)).isoformat()
    later = (date.today() + timedelta(days=22)).isoformat()
    cases = [
        (
            {"check_in": "2024-05-03", "check_out": "2024-05-01"},
            "Check-out must be after check-in.",
        ),
        ({"check_in": "2024-02-30", "check_out": "2024-03-01"}, "Enter a real date"),
        ({"check_in": future, "check_out": later}, "A stay that has not begun is booked"),
        ({"check_in": "2024-05-01", "check_out": "2024-05-02", "amount": "-3"}, "From 0 to"),
        ({"check_in": "2024-05-01", "check_out": "2026-05-02"}, "at most 366 nights"),
        ({"check_in": "2024-05-01", "check_out": "2024-05-02", "adults": "0"}, "At least one"),
        ({"check_in": "2024-05-01", "check_out": "2024-05-02", "room_id": "999"}, "Choose one"),
    ]
    for fields, message in cases:
        response = _stay(client, guest, fields.pop("check_in"), fields.pop("check_out"), **fields)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True), message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stay)) == 0
    booked = _stay(client, guest, future, later, status="booked", note="要靠窗")
    assert booked.status_code == 302


def test_my_day_shows_arrivals_with_their_alerts_and_checks_them_in_and_out(app, client):
    room = _homestay()
    desk = make_user("frontdesk")
    make_user("owner")
    today = shop_context(db.session).today
    guest = make_customer("林美華")
    make_alert(guest, category="preference", keywords="窗", body="喜歡靠窗、早餐不要香菜")
    leaving = make_customer("陳先生")
    for customer, check_in, status in ((guest, today, "booked"),
                                       (leaving, today - timedelta(days=2), "stayed")):  # fmt: skip
        service.save_stay(
            db.session, customer, None,
            {"room_id": room.id, "check_in": check_in,
             "check_out": check_in + timedelta(days=2), "status": status, "adults": 2},
            actor=None, today=today,
        )  # fmt: skip
    db.session.commit()
    login(client, desk)
    day = client.get("/").get_data(as_text=True)
    arriving = day[day.index("Arriving today") : day.index("Leaving today")]
    assert "林美華" in arriving and "喜歡靠窗、早餐不要香菜" in arriving
    assert "陳先生" in day[day.index("Leaving today") :]
    stay = db.session.scalar(sa.select(Stay).where(Stay.customer_id == guest.id))
    client.post(f"/stays/{stay.id}/check-in")
    db.session.refresh(stay)
    assert stay.status == "stayed" and stay.checked_in_at is not None
    departing = db.session.scalar(sa.select(Stay).where(Stay.customer_id == leaving.id))
    client.post(f"/stays/{departing.id}/check-out")
    after = client.get("/").get_data(as_text=True)
    assert not re.search(r"Arriving today.*林美華.*Leaving today", after, re.S)
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"stay.check_in", "stay.check_out"} <= actions


def test_edit_and_delete_keep_last_stay_right(app, client, owner):
    _homestay()
    guest = make_customer("林美華")
    login(client, owner)
    _stay(client, guest, "2022-01-01", "2022-01-03")
    _stay(client, guest, "2023-01-01", "2023-01-02")
    latest = db.session.scalar(sa.select(Stay).where(Stay.check_in == date(2023, 1, 1)))
    response = client.post(
        f"/stays/{latest.id}/edit",
        data={"stay-check_in": "2023-01-01", "stay-check_out": "2023-01-02",
              "stay-status": "no_show", "stay-adults": "1", "stay-room_id": ""},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(guest)
    assert guest.last_visit_at.date() == date(2022, 1, 1)  # a no-show is not a stay
    earlier = db.session.scalar(sa.select(Stay).where(Stay.check_in == date(2022, 1, 1)))
    client.post(f"/stays/{earlier.id}/delete")
    db.session.refresh(guest)
    assert guest.last_visit_at is None


def test_stays_per_month_and_occupancy_report(app, client, owner):
    room = _homestay()
    service.save_room(db.session, None, "山景房")
    db.session.commit()
    guest = make_customer("林美華")
    for check_in, check_out, status in (
        (date(2025, 1, 30), date(2025, 2, 2), "stayed"),  # 2 nights in Jan, 1 in Feb
        (date(2025, 2, 10), date(2025, 2, 12), "stayed"),
        (date(2025, 2, 20), date(2025, 2, 21), "cancelled"),
    ):
        service.save_stay(
            db.session, guest, None,
            {"room_id": room.id, "check_in": check_in, "check_out": check_out,
             "status": status, "adults": 2, "amount": 3000},
            actor=None, today=date(2026, 11, 24),
        )  # fmt: skip
    db.session.commit()
    rows = stay_reports.month_occupancy(db.session, 2025)
    assert (rows[0].stays, rows[0].nights, rows[0].amount) == (1, 2, 3000)
    assert (rows[1].stays, rows[1].nights, rows[1].amount) == (1, 3, 3000)
    assert rows[1].occupancy == round(3 / (2 * 28), 3)
    login(client, owner)
    page = client.get("/reports?report=stays&year=2025").get_data(as_text=True)
    assert "2025-02" in page and "5%" in page
    assert "Enter a year" in client.get("/reports?report=stays&year=abc").get_data(as_text=True)
    csv_data = client.get("/reports?report=stays&year=2025&format=csv").data.decode("utf-8-sig")
    assert "2025-01,1,2,3000" in csv_data


def test_a_stays_history_sheet_is_checked_whole_then_imported(app, client, owner):
    import io

    from tests.services.test_importer import xlsx

    _homestay()
    guest = make_customer("林美華", member_number="G0001")
    make_customer("陳先生")
    make_customer("陳先生")
    login(client, owner)
    header = ["會員編號", "姓名", "入住日期", "退房日期", "房間", "大人", "小孩", "金額", "備註"]
    bad = xlsx([header,
                ["G0001", "", "2019/4/1", "2019/4/3", "海景雙人房", "2", "0", "5200", ""],
                ["", "陳先生", "2020/1/1", "2020/1/2", "", "", "", "", ""],
                ["G0001", "", "2021/5/3", "2021/5/1", "", "", "", "", ""],
                ["G0001", "", "2021/6/1", "2021/6/2", "", "0", "0", "", ""]])  # fmt: skip
    response = client.post("/imports/stays", data={"sheet": (io.BytesIO(bad), "book.xlsx")},
                           content_type="multipart/form-data")  # fmt: skip
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "3 lines need fixing" in text
    assert "Several people are called 陳先生" in text
    assert "Check-out must be after check-in." in text and "At least one person" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stay)) == 0
    good = xlsx([header,
                 ["G0001", "", "2019/4/1", "2019/4/3", "海景雙人房", "2", "0", "5200", "紙本"],
                 ["", "林美華", "108/10/10", "108/10/11", "閣樓房", "1", "", "2600", ""]])  # fmt: skip
    response = client.post("/imports/stays", data={"sheet": (io.BytesIO(good), "book.xlsx")},
                           content_type="multipart/form-data")  # fmt: skip
    text = response.get_data(as_text=True)
    assert "2 stays are ready to import." in text
    token = text.split("/imports/stays/")[1].split('"')[0]
    client.post(f"/imports/stays/{token}")
    figures = service.figures(db.session, guest.id)
    assert (figures.stays, figures.nights, figures.spend) == (2, 3, 7800)
    assert figures.last_stay == date(2019, 10, 10)  # ROC 108
    assert {r.name for r in service.rooms(db.session)} == {"海景雙人房", "閣樓房"}


def test_rooms_refuse_empty_long_and_duplicate_names(app, client, owner):
    _homestay()  # 海景雙人房
    login(client, owner)
    for name, message in (("", "Enter the room's name."), ("房" * 61, "Field cannot be longer"),
                          (" 海景雙人房 ", "There is already a room called 海景雙人房.")):  # fmt: skip
        response = client.post("/settings/rooms", data={"new-name": name, "new-active": "y"})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True), name
    room = service.rooms(db.session)[0]
    client.post(f"/settings/rooms/{room.id}", data={f"room{room.id}-name": "海景房"})
    db.session.refresh(room)
    assert (room.name, room.active) == ("海景房", False)  # renamed; unticked: not in use
    assert [r.name for r in service.rooms(db.session)] == ["海景房"]


def test_a_room_change_mid_stay_is_one_stay_with_all_its_nights(app):
    """Issue 23: the two parts of a room-changed stay are one stay for filters and reports."""
    from app.services.stays import life

    sea = _homestay()
    hill = service.save_room(db.session, None, "山景房")
    db.session.commit()
    moved = make_customer("林美華")
    twice = make_customer("陳先生")
    values = {"room_id": sea.id, "check_in": date(2025, 3, 1), "check_out": date(2025, 3, 4),
              "status": "stayed", "adults": 2, "amount": 9000}  # fmt: skip
    stay = service.save_stay(db.session, moved, None, values, actor=None, today=date(2025, 3, 1))
    db.session.commit()
    rest = life.move(db.session, stay, moved, room_id=hill.id, from_day=date(2025, 3, 2),
                     actor=None, today=date(2025, 3, 2), zone="Asia/Taipei")  # fmt: skip
    db.session.commit()
    assert (rest.moved_from_id, rest.room_id, rest.status) == (stay.id, hill.id, "stayed")
    for check_in, check_out in ((date(2025, 3, 10), date(2025, 3, 11)),
                                (date(2025, 3, 20), date(2025, 3, 22))):  # fmt: skip
        service.save_stay(db.session, twice, None,
                          {**values, "check_in": check_in, "check_out": check_out},
                          actor=None, today=date(2025, 3, 25))  # fmt: skip
    db.session.commit()
    # The guest's figures, the filters and the month's report agree: one stay, three nights.
    assert (service.figures(db.session, moved.id).stays,
            service.figures(db.session, moved.id).nights) == (1, 3)  # fmt: skip
    assert {c.id for c in _matching("stays >= 2")} == {twice.id}
    assert {c.id for c in _matching("stays = 1")} == {moved.id}
    assert {c.id for c in _matching("stays >= 1")} == {moved.id, twice.id}
    assert moved.id in {c.id for c in _matching("stays < 2")}
    march = stay_reports.month_occupancy(db.session, 2025)[2]
    assert (march.stays, march.nights, march.amount) == (3, 3 + 1 + 2, 9000 * 3)
