"""iCal both ways: the export read back with icalendar, and subscriptions fetched by the
worker's own function from a real HTTP server on 127.0.0.1 (normal, changing, broken, huge,
slow, redirected elsewhere)."""

import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import icalendar
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RoomBlock, RoomFeed
from app.services.rooms import ical
from app.services.shop import shop_context
from app.tasks import refresh_room_feeds
from tests.conftest import login
from tests.factories import make_customer
from tests.rooms.conftest import book


class CalendarServer:
    """Serves what `pages[path]` says: (status, body bytes, seconds to wait first, headers)."""

    def __init__(self):
        self.pages: dict[str, tuple] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                status, body, delay, headers = pages.get(self.path, (404, b"", 0, {}))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "text/calendar")
                    self.end_headers()
                    for start in range(0, len(body), 65536):
                        self.wfile.write(body[start : start + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader gave up (too big, too slow): as it should

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path, body, status=200, delay=0.0, headers=None):
        self.pages[path] = (status, body, delay, headers or {})

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def calendar_server():
    server = CalendarServer()
    yield server
    server.close()


def ics(*events) -> bytes:
    """A booking site's export: (uid, first night, morning out[, status])."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Booking site//EN"]
    for uid, first, until, *status in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{until:%Y%m%d}", "SUMMARY:Reserved"]  # fmt: skip
        if status:
            lines.append(f"STATUS:{status[0]}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _blocks(feed_id):
    return db.session.execute(
        sa.select(RoomBlock.uid, RoomBlock.starts_on, RoomBlock.ends_on, RoomBlock.kind)
        .where(RoomBlock.feed_id == feed_id)
        .order_by(RoomBlock.starts_on)
    ).all()


def _run_worker():
    """The periodic task's own body, as the worker runs it every 15 minutes."""
    result = refresh_room_feeds.call_local()
    db.session.rollback()
    return result


def _feed(room, url, name="Booking.com"):
    feed = ical.add_feed(db.session, room, name, url)
    db.session.commit()
    return feed.id


def test_the_export_read_back_equals_our_bookings_and_tells_no_names(app, client, homestay, owner):
    today = shop_context(db.session).today
    room = homestay["2號房"]
    first = book(
        make_customer("王小明"), room, today + timedelta(days=2), today + timedelta(days=4)
    )
    second = book(make_customer("林美華"), room, today - timedelta(days=1),
                  today + timedelta(days=1), status="stayed")  # fmt: skip
    book(make_customer("取消"), room, today + timedelta(days=6), today + timedelta(days=8),
         status="cancelled")  # fmt: skip
    book(make_customer("別間"), homestay["1號房"], today, today + timedelta(days=3))
    login(client, owner)
    assert client.post(f"/calendar/rooms/{room.id}/export").status_code == 302
    page = client.get(f"/calendar/rooms/{room.id}").get_data(as_text=True)
    address = page.split('id="export-url" readonly value="')[1].split('"')[0]
    path = address.split("localhost", 1)[-1]
    client.post("/logout")
    response = client.get(path)  # public: a booking site has no login
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.get_data()
    assert "王小明".encode() not in body and "林美華".encode() not in body
    calendar = icalendar.Calendar.from_ical(body)
    events = sorted(
        (str(e["uid"]), e["dtstart"].dt, e["dtend"].dt, str(e["summary"]))
        for e in calendar.walk("VEVENT")
    )
    assert events == sorted([
        (f"stay-{first.id}@hearth", first.check_in, first.check_out, "已訂房"),
        (f"stay-{second.id}@hearth", second.check_in, second.check_out, "已訂房"),
    ])  # fmt: skip
    assert all(type(e["dtstart"].dt) is date for e in calendar.walk("VEVENT"))
    assert b"DTSTART;VALUE=DATE:" in body
    # A closure goes out too; the UIDs stay the same from one read to the next.
    login(client, owner)
    client.post("/calendar/closures", data={
        "close-room_id": str(room.id), "close-starts_on": (today + timedelta(days=10)).isoformat(),
        "close-ends_on": (today + timedelta(days=12)).isoformat(),
    })  # fmt: skip
    again = icalendar.Calendar.from_ical(client.get(path).get_data())
    uids = [str(e["uid"]) for e in again.walk("VEVENT")]
    assert len(uids) == 3 and f"stay-{first.id}@hearth" in uids
    assert "關房" in [str(e["summary"]) for e in again.walk("VEVENT")]
    # A new address: the old one is gone.
    client.post(f"/calendar/rooms/{room.id}/export")
    assert client.get(path).status_code == 404
    assert client.get("/ical/guessed-token.ics").status_code == 404


def test_a_subscription_blocks_the_room_and_follows_the_site_as_it_changes(
    app, homestay, calendar_server
):
    today = shop_context(db.session).today
    room = homestay["2號房"]
    a = ("a@booking", today + timedelta(days=3), today + timedelta(days=5))
    b = ("b@booking", today + timedelta(days=8), today + timedelta(days=9))
    gone = ("old@booking", today - timedelta(days=90), today - timedelta(days=88))
    calendar_server.serve("/room2.ics", ics(a, b, gone, ("c@booking", a[1], a[2], "CANCELLED")))
    feed_id = _feed(room, calendar_server.url + "/room2.ics")
    assert _run_worker() == {"ok": 1}
    assert _blocks(feed_id) == [(*a, "ota"), (*b, "ota")]
    feed = db.session.get(RoomFeed, feed_id)
    assert feed.last_status == "ok" and feed.last_events == 2 and feed.last_ok_at
    # The guest of b cancels on the site: the next read drops the block.
    calendar_server.serve("/room2.ics", ics(a))
    _run_worker()
    assert _blocks(feed_id) == [(*a, "ota")]


@pytest.mark.parametrize(
    "body, status, code",
    [(b"<html>Service unavailable</html>", 200, "invalid"),
     (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:soon\r\nEND:VEVENT\r\n"
      b"END:VCALENDAR\r\n", 200, "invalid"),
     (b"", 200, "invalid"),
     (b"oops", 500, "http")],
    ids=["garbage", "invalid-dates", "empty", "server-error"],
)  # fmt: skip
def test_a_broken_calendar_keeps_the_last_good_blocks_and_says_why(
    app, client, owner, homestay, calendar_server, body, status, code
):
    today = shop_context(db.session).today
    good = ("a@booking", today + timedelta(days=3), today + timedelta(days=5))
    calendar_server.serve("/feed.ics", ics(good))
    feed_id = _feed(homestay["2號房"], calendar_server.url + "/feed.ics")
    _run_worker()
    calendar_server.serve("/feed.ics", body, status=status)
    _run_worker()
    feed = db.session.get(RoomFeed, feed_id)
    assert feed.last_status == code and feed.last_ok_at is not None
    assert _blocks(feed_id) == [(*good, "ota")]
    login(client, owner)
    page = client.get(f"/calendar/rooms/{homestay['2號房'].id}").get_data(as_text=True)
    assert "failed" in page and "are kept" in page


def test_a_calendar_over_the_size_cap_is_refused(app, homestay, calendar_server):
    today = shop_context(db.session).today
    good = ("a@booking", today + timedelta(days=3), today + timedelta(days=5))
    calendar_server.serve("/big.ics", ics(good))
    feed_id = _feed(homestay["2號房"], calendar_server.url + "/big.ics")
    _run_worker()
    huge = ics(good).replace(b"END:VCALENDAR", b"X-PAD:" + b"x" * 70 + b"\r\n") * 40_000
    assert len(huge) > ical.MAX_BYTES
    calendar_server.serve("/big.ics", huge)  # no Content-Length: read until the cap
    _run_worker()
    feed = db.session.get(RoomFeed, feed_id)
    assert feed.last_status == "too-big", feed.last_error
    assert _blocks(feed_id) == [(*good, "ota")]


def test_a_slow_site_times_out_and_the_blocks_stay(app, homestay, calendar_server):
    app.config["ICAL_FETCH_TIMEOUT"] = 1.0
    today = shop_context(db.session).today
    good = ("a@booking", today + timedelta(days=3), today + timedelta(days=5))
    calendar_server.serve("/slow.ics", ics(good))
    feed_id = _feed(homestay["2號房"], calendar_server.url + "/slow.ics")
    _run_worker()
    calendar_server.serve("/slow.ics", ics(), delay=3)
    _run_worker()
    assert db.session.get(RoomFeed, feed_id).last_status == "timeout"
    assert _blocks(feed_id) == [(*good, "ota")]


def test_too_many_events_and_redirects_away_from_http_are_refused(app, homestay, calendar_server):
    app.config["ICAL_MAX_EVENTS"] = 3
    today = shop_context(db.session).today
    many = [(f"{n}@booking", today + timedelta(days=n), today + timedelta(days=n + 1))
            for n in range(1, 6)]  # fmt: skip
    calendar_server.serve("/many.ics", ics(*many))
    calendar_server.serve("/away.ics", b"", status=302, headers={"Location": "file:///etc/passwd"})
    calendar_server.serve("/hop.ics", b"", status=302, headers={"Location": "/many.ics"})
    room = homestay["2號房"]
    many_id = _feed(room, calendar_server.url + "/many.ics")
    away_id = _feed(room, calendar_server.url + "/away.ics", name="Airbnb")
    hop_id = _feed(homestay["1號房"], calendar_server.url + "/hop.ics")
    _run_worker()
    assert db.session.get(RoomFeed, many_id).last_status == "too-many-events"
    assert db.session.get(RoomFeed, away_id).last_status == "redirect"
    assert db.session.get(RoomFeed, hop_id).last_status == "too-many-events"  # followed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoomBlock)) == 0


def test_the_owner_adds_and_removes_a_subscription_in_settings(
    app, client, owner, frontdesk, homestay, calendar_server
):
    room = homestay["2號房"]
    login(client, owner)
    for data, message in (
        ({"feed-name": "Airbnb", "feed-url": "ftp://example.com/a.ics"}, "https://"),
        ({"feed-name": "", "feed-url": "https://example.com/a.ics"}, "booking site"),
        ({"feed-name": "Airbnb", "feed-url": "https://"}, "https://"),
    ):
        response = client.post(f"/calendar/rooms/{room.id}/feeds", data=data)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    url = calendar_server.url + "/a.ics"
    calendar_server.serve("/a.ics", ics())
    response = client.post(f"/calendar/rooms/{room.id}/feeds",
                           data={"feed-name": "Airbnb", "feed-url": url})  # fmt: skip
    assert response.status_code == 302
    page = client.get(f"/calendar/rooms/{room.id}").get_data(as_text=True)
    assert "Airbnb" in page and "Not read yet." in page
    _run_worker()
    assert "Read " in client.get(f"/calendar/rooms/{room.id}").get_data(as_text=True)
    feed = db.session.scalar(sa.select(RoomFeed))
    again = client.post(f"/calendar/rooms/{room.id}/feeds",
                        data={"feed-name": "Airbnb", "feed-url": url})  # fmt: skip
    assert again.status_code == 422
    assert client.post(f"/calendar/feeds/{feed.id}/delete").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoomFeed)) == 0
