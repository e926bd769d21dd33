"""The calendar, closures and the room page over HTTP: roles, bad input, what the desk sees."""

import re
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, RoomBlock, RoomFeed
from app.services.shop import ensure_shop, shop_context
from tests.conftest import login
from tests.factories import make_alert, make_customer
from tests.rooms.conftest import book


def _today():
    return shop_context(db.session).today


def test_a_teacher_gets_403_and_the_desk_sees_bars_and_free_nights(
    app, client, homestay, owner, frontdesk, teacher
):
    today = _today()
    guest = make_customer("王小明")
    make_alert(guest)
    book(guest, homestay["2號房"], today + timedelta(days=2), today + timedelta(days=4))
    book(make_customer("取消的客人"), homestay["1號房"], today, today + timedelta(days=1),
         status="cancelled")  # fmt: skip
    login(client, teacher)
    assert client.get("/calendar").status_code == 403
    assert client.get(f"/calendar/rooms/{homestay['2號房'].id}").status_code == 403
    client.post("/logout")
    login(client, frontdesk)
    page = client.get("/calendar").get_data(as_text=True)
    assert "王小明" in page and "2 nights" in page and "Allergy: 花生, peanut" in page
    assert "取消的客人" not in page
    room = homestay["2號房"]
    day = today + timedelta(days=5)
    link = (f'/bookings/new?room_id={room.id}&amp;check_in={day.isoformat()}'
            f'&amp;check_out={(day + timedelta(days=1)).isoformat()}')  # fmt: skip
    assert link in page
    # The booked nights are not links to book.
    booked = today + timedelta(days=2)
    assert f"room_id={room.id}&amp;check_in={booked.isoformat()}" not in page
    assert page.count('<td class="free">') == 3 * 14 - 2
    assert '<th scope="col"' in page and "<caption>" in page


def test_a_month_and_navigation_links(app, client, homestay, owner):
    login(client, owner)
    page = client.get("/calendar?start=2027-01-01&days=31").get_data(as_text=True)
    assert page.count('scope="col" class="day') == 31
    assert "/calendar?start=2026-12-01&amp;days=31" in page  # earlier
    assert "/calendar?start=2027-02-01&amp;days=31" in page  # later
    assert "/calendar?start=2027-01-01&amp;days=14" in page  # two weeks


def test_bad_dates_get_a_clear_message_in_the_users_language(app, client, homestay, owner):
    login(client, owner)
    for query in ("start=2026-02-30", "days=20", "start=1990-01-01", "start=abc&days=31"):
        response = client.get(f"/calendar?{query}")
        assert response.status_code == 422, query
        assert "flash-error" in response.get_data(as_text=True)
    response = client.get("/calendar?days=20", headers={"Accept-Language": "zh-TW"})
    assert "請選擇顯示 14 天或 31 天。" in response.get_data(as_text=True)


def test_calendar_in_the_homestay_menu_only(app, client, homestay, owner):
    login(client, owner)
    assert 'href="/calendar"' in client.get("/").get_data(as_text=True)
    shop = ensure_shop(db.session)
    shop.kind = "afterschool"
    db.session.commit()
    assert 'href="/calendar"' not in client.get("/customers/").get_data(as_text=True)


def test_the_desk_closes_a_room_from_the_calendar_and_reopens_it(
    app, client, homestay, frontdesk, owner
):
    today = _today()
    room = homestay["1號房"]
    login(client, frontdesk)
    first, until = today + timedelta(days=3), today + timedelta(days=5)
    response = client.post("/calendar/closures", data={
        "close-room_id": str(room.id), "close-starts_on": first.isoformat(),
        "close-ends_on": until.isoformat(), "close-note": "油漆", "close-back": "calendar",
    })  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/calendar?start={first.isoformat()}")
    page = client.get("/calendar").get_data(as_text=True)
    assert "bar-closed" in page and "油漆" in page
    block = db.session.scalar(sa.select(RoomBlock))
    assert (block.starts_on, block.ends_on, block.kind) == (first, until, "closed")
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "room.close"))
    room_page = client.get(f"/calendar/rooms/{room.id}").get_data(as_text=True)
    assert "油漆" in room_page and "Reopen" in room_page
    assert "Calendar address for booking sites" not in room_page  # the owner's part
    assert client.post(f"/calendar/closures/{block.id}/reopen").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoomBlock)) == 0


def test_a_bad_closure_is_422_with_the_message_and_nothing_saved(
    app, client, homestay, frontdesk, owner
):
    today = _today()
    room = homestay["2號房"]
    book(make_customer("王小明"), room, today + timedelta(days=1), today + timedelta(days=3))
    login(client, frontdesk)
    cases = [
        ({"close-starts_on": today.isoformat(), "close-ends_on": today.isoformat()},
         "The room opens again after the first closed night."),
        ({"close-starts_on": "2026-02-30", "close-ends_on": today.isoformat()},
         "Enter a real date"),
        ({"close-starts_on": today.isoformat(),
          "close-ends_on": (today + timedelta(days=2)).isoformat()},
         "The room is booked then (王小明"),
    ]  # fmt: skip
    for data, message in cases:
        response = client.post("/calendar/closures", data={"close-room_id": str(room.id), **data})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert client.post("/calendar/closures", data={"close-room_id": "999"}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoomBlock)) == 0


def test_my_day_lists_a_booking_site_block_over_our_booking(
    app, client, homestay, frontdesk, owner
):
    today = _today()
    room = homestay["2號房"]
    book(make_customer("王小明"), room, today + timedelta(days=1), today + timedelta(days=3))
    login(client, frontdesk)
    assert "Double bookings to sort out" not in client.get("/").get_data(as_text=True)
    feed = RoomFeed(room_id=room.id, name="Airbnb", url="https://example.com/a.ics")
    db.session.add(feed)
    db.session.flush()
    db.session.add(RoomBlock(room_id=room.id, starts_on=today + timedelta(days=2),
                             ends_on=today + timedelta(days=4), kind="ota", feed_id=feed.id))  # fmt: skip
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Double bookings to sort out" in page
    assert re.search(r"2號房</strong>.*王小明.*is also booked on Airbnb", page, re.S)
