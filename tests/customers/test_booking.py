"""No room booked twice (the gate every writer goes through), the phone booking page, and
the stay's life at the desk: check-in and check-out on other days, one more night, a room
change mid-stay."""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Customer, Stay, TimelineEntry
from app.services import stays as service
from app.services.shop import ensure_shop, shop_context
from app.services.stays import StayError, life
from tests.conftest import login, postgres_wanted
from tests.factories import make_alert, make_customer, make_user


def _homestay():
    make_user("owner")
    shop = ensure_shop(db.session)
    shop.kind = "homestay"
    db.session.commit()
    sea = service.save_room(db.session, None, "海景雙人房", capacity=2)
    family = service.save_room(db.session, None, "家庭四人房", capacity=4)
    db.session.commit()
    return sea, family


def _book(customer, room, check_in, nights=2, status="booked", today=None):
    stay = service.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": check_in, "check_out": check_in + timedelta(days=nights),
         "status": status, "adults": 2},
        actor=None, today=today or shop_context(db.session).today,
    )  # fmt: skip
    db.session.commit()
    return stay


def _today():
    return shop_context(db.session).today


def test_an_overlapping_stay_is_refused_naming_the_booking_it_clashes_with(app):
    sea, family = _homestay()
    today = _today()
    first = _book(make_customer("林美華"), sea, today + timedelta(days=10))
    other = make_customer("陳先生")
    for start, nights in ((10, 2), (9, 2), (11, 1), (8, 5)):
        with pytest.raises(StayError) as refused:
            _book(other, sea, today + timedelta(days=start), nights)
        db.session.rollback()
        assert refused.value.code == "clash" and refused.value.clash.id == first.id
        day = (today + timedelta(days=10)).isoformat()
        assert (
            refused.value.detail.startswith(f"林美華 {day} → ")
            and "海景雙人房" in refused.value.detail
        )
    # The night before, the morning they leave, another room, no room: all free.
    _book(other, sea, today + timedelta(days=9), 1)
    _book(other, sea, today + timedelta(days=12), 1)
    _book(other, family, today + timedelta(days=10), 2)
    service.save_stay(db.session, other, None, {"room_id": None, "check_in": today + timedelta(days=10),
                      "check_out": today + timedelta(days=11), "status": "booked", "adults": 1},
                      actor=None, today=today)  # fmt: skip
    # A cancelled or no-show stay frees its nights; a stay may be saved again over itself.
    first.status = "cancelled"
    db.session.commit()
    again = _book(make_customer("王小姐"), sea, today + timedelta(days=10), 2)
    service.save_stay(db.session, again.customer, again,
                      {"room_id": sea.id, "check_in": again.check_in, "check_out": again.check_out,
                       "status": "booked", "adults": 3}, actor=None, today=today)  # fmt: skip
    db.session.commit()
    assert service.clash_for(db.session, sea.id, again.check_in, again.check_out, again.id) is None
    # Editing the cancelled stay back to booked: refused, it would now clash.
    with pytest.raises(StayError):
        service.save_stay(db.session, first.customer, first,
                          {"room_id": sea.id, "check_in": first.check_in,
                           "check_out": first.check_out, "status": "booked", "adults": 2},
                          actor=None, today=today)  # fmt: skip


def _booking(client, **fields):
    today = _today()
    data = {"guest_id": "", "guest_name": "", "guest_phone": "", "guest_email": "",
            "room_id": "", "check_in": (today + timedelta(days=5)).isoformat(),
            "check_out": (today + timedelta(days=7)).isoformat(), "adults": "2",
            "children_ages": "", "preferences": "", "occasion": "", "occasion_label": "",
            "occasion_who": "", "occasion_on": "", "source": "電話", "note": ""}  # fmt: skip
    data.update(fields)
    return client.post("/bookings/new", data=data)


def test_a_phone_booking_makes_the_guest_and_the_stay_and_refuses_a_second_one(app, client):
    sea, _family = _homestay()
    desk = make_user("frontdesk")
    login(client, desk)
    today = _today()
    check_in, check_out = today + timedelta(days=5), today + timedelta(days=7)
    page = client.get(f"/bookings/new?room_id={sea.id}&check_in={check_in}&check_out={check_out}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'value="{check_in.isoformat()}"' in text and f'value="{check_out.isoformat()}"' in text
    assert f'<option selected value="{sea.id}">' in text
    response = _booking(client, guest_name="林美華", guest_phone="0912-345-678", room_id=str(sea.id),
                        children_ages="6, 9", preferences="要靠窗", occasion="birthday",
                        occasion_who="小女兒")  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    stay = db.session.scalar(sa.select(Stay))
    guest = db.session.get(Customer, stay.customer_id)
    assert (guest.display_name, guest.phone) == ("林美華", "0912-345-678")
    assert (stay.status, stay.adults, stay.children, stay.children_ages) == ("booked", 2, 2, [6, 9])
    assert (stay.occasion, stay.occasion_who, stay.occasion_on) == ("birthday", "小女兒", check_in)
    assert response.headers["Location"].endswith(f"/stays/{stay.id}")
    shown = client.get(f"/stays/{stay.id}").get_data(as_text=True)
    assert "Booked" in shown and "要靠窗" in shown and "ages 6, 9" in shown and "小女兒" in shown
    # The same room, one night of it: refused, naming the booking, in English and Chinese.
    again = _booking(client, guest_name="陳先生", guest_phone="0922000111", room_id=str(sea.id),
                     check_in=(check_in + timedelta(days=1)).isoformat(),
                     check_out=(check_out + timedelta(days=1)).isoformat())  # fmt: skip
    text = again.get_data(as_text=True)
    assert again.status_code == 422
    assert (f"That room is already booked for those nights: 林美華 {check_in.isoformat()} → "
            f"{check_out.isoformat()} 海景雙人房") in text  # fmt: skip
    chinese = client.post(
        "/bookings/new",
        headers={"Accept-Language": "zh-TW"},
        data={
            "guest_name": "陳先生",
            "guest_phone": "0922000111",
            "room_id": str(sea.id),
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "adults": "2",
        },
    )
    assert chinese.status_code == 422
    assert "這間房這幾晚已有訂房：林美華" in chinese.get_data(as_text=True)
    # Nothing half-written: no second stay, no customer made for the refused booking.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stay)) == 1
    assert (
        db.session.scalar(sa.select(Customer.id).where(Customer.display_name == "陳先生")) is None
    )


def test_bad_bookings_come_back_with_the_reason(app, client):
    sea, _family = _homestay()
    login(client, make_user("frontdesk"))
    room = str(sea.id)
    yesterday = (_today() - timedelta(days=1)).isoformat()
    cases = [
        ({"guest_name": "林美華", "guest_phone": "0912"}, "Choose a room."),
        ({"room_id": room}, "Choose a guest, or type the new guest&#39;s name."),
        ({"room_id": room, "guest_name": "林美華"}, "Enter the new guest&#39;s phone or email."),
        (
            {"room_id": room, "guest_name": "林美華", "guest_phone": "0912", "children_ages": "六"},
            "Enter the children&#39;s ages as whole numbers",
        ),
        (
            {"room_id": room, "guest_name": "林美華", "guest_phone": "0912", "occasion": "other"},
            "Say what the occasion is.",
        ),
        (
            {"room_id": room, "guest_name": "林美華", "guest_phone": "0912", "check_in": yesterday},
            "A new booking starts today or later.",
        ),
        (
            {
                "room_id": room,
                "guest_name": "林美華",
                "guest_phone": "0912",
                "check_out": "2020-01-01",
            },
            "Check-out must be after check-in.",
        ),
        ({"room_id": room, "guest_id": "99999"}, "Choose a guest"),
    ]
    for fields, message in cases:
        response = _booking(client, **fields)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stay)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
    client.post("/logout")
    login(client, make_user("teacher"))
    assert client.get("/bookings/new").status_code == 403
    assert _booking(client, guest_name="X", guest_phone="1", room_id=room).status_code == 403
    assert client.get("/bookings/guests?q=林").status_code == 403


def test_an_existing_guest_is_found_with_their_alerts_and_booked(app, client):
    sea, _family = _homestay()
    login(client, make_user("frontdesk"))
    guest = make_customer("林美華", phone="0912345678")
    make_alert(guest, category="allergy", keywords="蝦", body="對蝦子過敏")
    found = client.get("/bookings/guests?q=林美", headers={"HX-Request": "true"})
    text = found.get_data(as_text=True)
    assert "林美華" in text and "對蝦子過敏" in text and f'value="{guest.id}"' in text
    assert "No guest found" in client.get("/bookings/guests?q=不存在的人").get_data(as_text=True)
    # Refused for another reason: the chosen guest and the alert are still there, on top.
    bad = _booking(client, guest_id=str(guest.id), room_id=str(sea.id), children_ages="x")
    assert bad.status_code == 422 and "對蝦子過敏" in bad.get_data(as_text=True)
    assert _booking(client, guest_id=str(guest.id), room_id=str(sea.id)).status_code == 302
    stay = db.session.scalar(sa.select(Stay))
    assert stay.customer_id == guest.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


def test_check_in_early_and_out_late_or_early_through_the_gate(app, client):
    sea, _family = _homestay()
    login(client, make_user("frontdesk"))
    today = _today()
    guest, other = make_customer("林美華"), make_customer("陳先生")
    # Booked from tomorrow; the room is free tonight: an early arrival starts the stay today.
    stay = _book(guest, sea, today + timedelta(days=1), 2)
    response = client.post(f"/stays/{stay.id}/check-in", data={"back": "stay"})
    assert response.headers["Location"].endswith(f"/stays/{stay.id}")
    db.session.refresh(stay)
    assert (stay.status, stay.check_in) == ("stayed", today) and stay.checked_in_at is not None
    assert "In house" in client.get(f"/stays/{stay.id}").get_data(as_text=True)
    # Another booking from the day after tomorrow: one more night is refused, naming it.
    _book(other, sea, today + timedelta(days=3), 2)
    client.post(f"/stays/{stay.id}/extend")
    page = client.get(f"/stays/{stay.id}").get_data(as_text=True)
    assert "That room is already booked for those nights: 陳先生" in page
    db.session.refresh(stay)
    assert stay.check_out == today + timedelta(days=3)
    # Leaving today instead: the nights not used go back to the room.
    response = client.post(f"/stays/{stay.id}/check-out", data={"back": "stay"})
    db.session.refresh(stay)
    assert stay.checked_out_at is not None and stay.check_out == today + timedelta(days=1)
    assert service.clash_for(db.session, sea.id, today + timedelta(days=1),
                             today + timedelta(days=3)) is None  # fmt: skip
    assert "Departed" in client.get(f"/stays/{stay.id}").get_data(as_text=True)
    lines = db.session.scalars(
        sa.select(TimelineEntry.body).where(TimelineEntry.customer_id == guest.id)
    ).all()
    assert any(line.startswith("提早入住") for line in lines), lines
    assert any("退房（原訂住到" in line for line in lines), lines
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"stay.check_in", "stay.check_out"} <= actions


def test_an_early_arrival_into_a_taken_room_is_refused(app):
    sea, _family = _homestay()
    today = _today()
    _book(make_customer("陳先生"), sea, today - timedelta(days=1), 2, status="stayed")
    later = _book(make_customer("林美華"), sea, today + timedelta(days=1), 2)
    with pytest.raises(StayError) as refused:
        life.check_in(
            db.session, later, later.customer, actor=None, today=today, zone="Asia/Taipei"
        )
    assert refused.value.code == "clash" and "陳先生" in refused.value.detail
    db.session.rollback()
    db.session.refresh(later)
    assert (later.status, later.check_in) == ("booked", today + timedelta(days=1))


def test_a_late_check_out_past_the_planned_day_is_refused_when_the_room_is_taken(app):
    sea, _family = _homestay()
    today = _today()
    stay = _book(make_customer("林美華"), sea, today - timedelta(days=3), 2, status="stayed")
    _book(make_customer("陳先生"), sea, today - timedelta(days=1), 1, status="stayed")
    with pytest.raises(StayError) as refused:
        life.check_out(db.session, stay, stay.customer, actor=None, today=today, zone="Asia/Taipei")
    assert refused.value.code == "clash"
    db.session.rollback()
    free = _book(make_customer("王小姐"), make_room("閣樓房"), today - timedelta(days=3), 2,
                 status="stayed")  # fmt: skip
    life.check_out(db.session, free, free.customer, actor=None, today=today, zone="Asia/Taipei")
    db.session.commit()
    assert free.check_out == today and free.checked_out_at is not None


def make_room(name):
    room = service.save_room(db.session, None, name)
    db.session.commit()
    return room


def test_a_room_change_mid_stay_keeps_both_rooms_nights_right(app, client):
    sea, family = _homestay()
    login(client, make_user("frontdesk"))
    today = _today()
    guest = make_customer("林美華")
    stay = _book(guest, sea, today, 4)
    client.post(f"/stays/{stay.id}/check-in")
    blocker = _book(make_customer("陳先生"), family, today + timedelta(days=3), 1)
    # Into a room taken on one of the nights: refused with the booking named, nothing moved.
    refused = client.post(
        f"/stays/{stay.id}/move",
        data={
            "move-room_id": str(family.id),
            "move-from_day": (today + timedelta(days=2)).isoformat(),
        },
    )
    assert refused.status_code == 422
    assert "That room is already booked for those nights: 陳先生" in refused.get_data(as_text=True)
    bad_day = client.post(
        f"/stays/{stay.id}/move",
        data={
            "move-room_id": str(family.id),
            "move-from_day": (today + timedelta(days=9)).isoformat(),
        },
    )
    assert bad_day.status_code == 422 and "Choose one of the stay" in bad_day.get_data(as_text=True)
    blocker.status = "cancelled"
    db.session.commit()
    moved = client.post(
        f"/stays/{stay.id}/move",
        data={
            "move-room_id": str(family.id),
            "move-from_day": (today + timedelta(days=2)).isoformat(),
        },
    )
    assert moved.status_code == 302
    parts = db.session.scalars(sa.select(Stay).where(Stay.customer_id == guest.id)
                               .order_by(Stay.check_in)).all()  # fmt: skip
    assert [(p.room_id, p.check_in, p.check_out) for p in parts] == [
        (sea.id, today, today + timedelta(days=2)),
        (family.id, today + timedelta(days=2), today + timedelta(days=4)),
    ]
    assert parts[1].moved_from_id == parts[0].id and parts[1].status == "stayed"
    assert moved.headers["Location"].endswith(f"/stays/{parts[1].id}")
    # The sea room is free from the move on; the family room is not.
    assert service.clash_for(db.session, sea.id, today + timedelta(days=2),
                             today + timedelta(days=4)) is None  # fmt: skip
    assert service.clash_for(db.session, family.id, today + timedelta(days=3),
                             today + timedelta(days=4)).id == parts[1].id  # fmt: skip
    page = client.get(f"/stays/{parts[1].id}").get_data(as_text=True)
    assert "Before the room change" in page and "海景雙人房" in page
    # One more night on the part in the family room; one stay in the guest's figures.
    assert client.post(f"/stays/{parts[1].id}/extend").status_code == 302
    db.session.refresh(parts[1])
    assert parts[1].check_out == today + timedelta(days=5)
    figures = service.figures(db.session, guest.id)
    assert (figures.stays, figures.nights) == (1, 5)
    lines = db.session.scalars(
        sa.select(TimelineEntry.body).where(TimelineEntry.customer_id == guest.id)
    ).all()
    assert any(line.startswith("換房") for line in lines) and any(
        "續住一晚" in line for line in lines
    )


def test_a_stays_sheet_refuses_a_room_already_taken(app, client):
    from tests.services.test_importer import xlsx

    sea, _family = _homestay()
    guest = make_customer("林美華", member_number="G0001")
    _book(make_customer("陳先生"), sea, date(2024, 5, 1), 2, status="stayed")
    login(client, make_user("frontdesk"))
    header = ["會員編號", "入住日期", "退房日期", "房間"]
    sheet = xlsx([header, ["G0001", "2024/5/2", "2024/5/4", "海景雙人房"],
                  ["G0001", "2024/6/1", "2024/6/3", "閣樓房"],
                  ["G0001", "2024/6/2", "2024/6/4", "閣樓房"]])  # fmt: skip
    response = client.post("/imports/stays", data={"sheet": (io.BytesIO(sheet), "book.xlsx")},
                           content_type="multipart/form-data")  # fmt: skip
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "2 lines need fixing" in text
    assert "That room is already booked for those nights: 陳先生 2024-05-01 → 2024-05-03" in text
    assert "already taken by line 3 of this sheet" in text
    assert service.figures(db.session, guest.id).stays == 0


@pytest.mark.postgres_only
def test_postgres_refuses_an_overlap_even_behind_the_gate(app):
    """The exclusion constraint: a writer that skipped clash_for is refused the same way."""
    sea, _family = _homestay()
    today = _today()
    first = _book(make_customer("林美華"), sea, today, 2)
    sneaky = Stay(customer_id=first.customer_id, room_id=sea.id, check_in=today + timedelta(days=1),
                  check_out=today + timedelta(days=3), status="booked", adults=2)  # fmt: skip
    db.session.add(sneaky)
    with pytest.raises(StayError) as refused:
        service.flush_guarded(db.session, sneaky)
    assert refused.value.code == "clash" and refused.value.clash.id == first.id
    assert postgres_wanted()


def test_a_closed_room_or_a_booking_sites_block_refuses_a_booking_naming_it(app, client):
    """The one gate knows the calendar's blocks: nights closed for repairs, and nights a
    booking site's calendar (.ics subscription) has taken, are not free; the phone booking
    page says which block it met, and nothing is written."""
    from app.models import RoomBlock, RoomFeed

    sea, family = _homestay()
    today = _today()
    feed = RoomFeed(room_id=family.id, name="Booking.com", url="http://127.0.0.1:9/b.ics")
    db.session.add(feed)
    db.session.flush()
    db.session.add_all([
        RoomBlock(room_id=sea.id, starts_on=today + timedelta(days=5),
                  ends_on=today + timedelta(days=7), kind="closed", note="換窗簾"),
        RoomBlock(room_id=family.id, starts_on=today + timedelta(days=5),
                  ends_on=today + timedelta(days=6), kind="ota", feed_id=feed.id, uid="x@b"),
    ])  # fmt: skip
    db.session.commit()
    guest = make_customer("黃小姐")
    with pytest.raises(StayError) as closed:
        _book(guest, sea, today + timedelta(days=6), 1)
    db.session.rollback()
    assert closed.value.code == "clash" and "換窗簾" in closed.value.detail
    with pytest.raises(StayError) as taken:
        _book(guest, family, today + timedelta(days=4), 2)
    db.session.rollback()
    assert "Booking.com" in taken.value.detail
    assert _book(guest, family, today + timedelta(days=6), 2).room_id == family.id  # after it
    from app.models import User

    login(client, db.session.scalar(sa.select(User).where(User.role == "owner")))
    response = client.post(
        "/bookings/new",
        data={"guest_name": "路人甲", "guest_phone": "0912345678", "room_id": str(sea.id),
              "check_in": (today + timedelta(days=5)).isoformat(),
              "check_out": (today + timedelta(days=6)).isoformat(), "adults": "1"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "換窗簾" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stay)) == 1


def test_the_phone_booking_reads_childrens_ages_as_typed_into_a_list(app, client):
    """Issue 23: the ages are kept as whole numbers ([6, 9]); the desk still types them as
    it says them, with commas or 、, and "six" is refused in words."""
    sea, family = _homestay()
    login(client, make_user("frontdesk"))
    client.post("/language", data={"lang": "zh_Hant"})
    refused = _booking(client, room_id=str(family.id), guest_name="林美華",
                       guest_phone="0912345678", children_ages="six")  # fmt: skip
    assert refused.status_code == 422
    assert "小孩年齡請填整數，例如 6, 9。" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stay)) == 0
    for typed, room in (("6, 9", sea), ("6、9", family)):
        response = _booking(client, room_id=str(room.id), guest_name=f"林美華{room.id}",
                            guest_phone="0912345678", children_ages=typed)  # fmt: skip
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    stays = db.session.scalars(sa.select(Stay).order_by(Stay.id)).all()
    assert [(stay.children_ages, stay.children, stay.ages) for stay in stays] == [
        ([6, 9], 2, [6, 9]),
        ([6, 9], 2, [6, 9]),
    ]
    # The stay's page and its edit form show them as typed.
    for path in (f"/stays/{stays[0].id}", f"/stays/{stays[0].id}/edit"):
        page = client.get(path).get_data(as_text=True)
        assert "6, 9" in page and "[6, 9]" not in page, path
