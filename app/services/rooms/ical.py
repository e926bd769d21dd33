"""iCal both ways: a room's secret export address that booking sites read (our stays and
closures, nothing personal), and the booking sites' calendars a room subscribes to, fetched
with limits and turned into blocks (the last good copy kept when a fetch fails)."""

import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import icalendar
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Room, RoomBlock, RoomExport, RoomFeed, Stay
from app.services.rooms.blocks import ACTIVE_STAY_STATUSES

MAX_BYTES = 2 * 1024 * 1024
MAX_EVENTS = 5_000
TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 3
FEEDS_PER_ROOM = 5
KEEP_PAST_DAYS = 31  # blocks ending earlier are of no use to the calendar
EXPORT_PAST_DAYS = 31


class FeedError(ValueError):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# ---- the export address ---------------------------------------------------------------------


def export_of(session: Session, room_id: int) -> RoomExport | None:
    return session.get(RoomExport, room_id)


def new_export_token(session: Session, room: Room) -> RoomExport:
    """Creates the room's export address, or replaces it (the old address stops working)."""
    export = session.get(RoomExport, room.id)
    if export is None:
        export = RoomExport(room_id=room.id)
        session.add(export)
    export.token = secrets.token_urlsafe(24)
    export.created_at = utcnow()
    session.flush()
    return export


def room_for_token(session: Session, token: str) -> Room | None:
    if not token or len(token) > 64:
        return None
    export = session.scalar(sa.select(RoomExport).where(RoomExport.token == token))
    return session.get(Room, export.room_id) if export is not None else None


def export_calendar(
    session: Session, room: Room, today: date, *, booked: str, closed: str
) -> bytes:
    """The room's booked and in-house stays and its closures as all-day events (the nights
    taken: DTEND is the morning they leave), each with a stable UID and only the neutral
    summary given (booking sites show it; no names, no notes). Booking-site blocks are
    not sent back to the sites they came from."""
    since = today - timedelta(days=EXPORT_PAST_DAYS)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Hearth//Room calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", room.name)
    stamp = datetime.now(UTC).replace(microsecond=0)
    stays = session.execute(
        sa.select(Stay.id, Stay.check_in, Stay.check_out)
        .where(Stay.room_id == room.id, Stay.status.in_(ACTIVE_STAY_STATUSES),
               Stay.check_out > since)
        .order_by(Stay.check_in, Stay.id)
    ).all()  # fmt: skip
    closures = session.execute(
        sa.select(RoomBlock.id, RoomBlock.starts_on, RoomBlock.ends_on)
        .where(RoomBlock.room_id == room.id, RoomBlock.kind == "closed",
               RoomBlock.ends_on > since)
        .order_by(RoomBlock.starts_on, RoomBlock.id)
    ).all()  # fmt: skip
    for prefix, summary, rows in (("stay", booked, stays), ("closed", closed, closures)):
        for row_id, starts_on, ends_on in rows:
            event = icalendar.Event()
            event.add("uid", f"{prefix}-{row_id}@hearth")
            event.add("dtstamp", stamp)
            event.add("dtstart", starts_on)
            event.add("dtend", ends_on)
            event.add("summary", summary)
            event.add("transp", "OPAQUE")
            calendar.add_component(event)
    return calendar.to_ical()


# ---- subscriptions ----------------------------------------------------------------------------


def check_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2000:
        raise FeedError("url-long")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError("url")
    return url


def add_feed(session: Session, room: Room, name: str, url: str) -> RoomFeed:
    name = " ".join((name or "").split())
    if not name or len(name) > 60:
        raise FeedError("name")
    url = check_url(url)
    feeds = feeds_of(session, room.id)
    if len(feeds) >= FEEDS_PER_ROOM:
        raise FeedError("too-many-feeds")
    if any(feed.url == url for feed in feeds):
        raise FeedError("url-exists")
    feed = RoomFeed(room_id=room.id, name=name, url=url, last_status="", last_error="",
                    last_events=0)  # fmt: skip
    session.add(feed)
    session.flush()
    return feed


def remove_feed(session: Session, feed: RoomFeed) -> None:
    """The subscription and its blocks go (the room opens where only it had blocked)."""
    session.execute(sa.delete(RoomBlock).where(RoomBlock.feed_id == feed.id))
    session.delete(feed)
    session.flush()


def feeds_of(session: Session, room_id: int) -> list[RoomFeed]:
    return list(
        session.scalars(
            sa.select(RoomFeed).where(RoomFeed.room_id == room_id).order_by(RoomFeed.id)
        )
    )


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most MAX_REDIRECTS redirects, and only to http(s) addresses."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise FeedError("redirect", newurl[:200])
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> bytes:
    """The calendar's bytes, read in pieces: refused past max_bytes (whatever the server
    says its length is), or when the whole fetch takes longer than the timeout."""
    check_url(url)
    opener = urllib.request.build_opener(_HttpOnlyRedirects())
    request = urllib.request.Request(
        url, headers={"User-Agent": "Hearth room calendar", "Accept": "text/calendar, */*"}
    )
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FeedError("too-big")
            chunks, size = [], 0
            while chunk := response.read(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError("too-big")
                if time.monotonic() > deadline:
                    raise FeedError("timeout")
                chunks.append(chunk)
            return b"".join(chunks)
    except FeedError:
        raise
    except urllib.error.HTTPError as error:
        error.close()  # it holds the answer's connection
        if 300 <= error.code < 400:  # urllib refuses a redirect to file:, data: … itself
            raise FeedError("redirect", str(error.code)) from None
        raise FeedError("http", str(error.code)) from None
    except TimeoutError:
        raise FeedError("timeout") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise FeedError("timeout") from None
        raise FeedError("network", str(error.reason)[:200]) from None
    except (OSError, ValueError) as error:
        raise FeedError("network", str(error)[:200]) from None


@dataclass
class FeedEvent:
    uid: str
    starts_on: date
    ends_on: date
    summary: str


def _day(value) -> date | None:
    try:
        moment = getattr(value, "dt", None)
    except Exception:  # icalendar's BrokenCalendarProperty for a value it could not read
        return None
    if isinstance(moment, datetime):
        return moment.date()
    return moment if isinstance(moment, date) else None


def _event(component) -> FeedEvent | None:
    """One VEVENT as the nights it takes; None for a cancelled one. Raises FeedError for
    an event without usable dates (the calendar cannot be trusted then)."""
    if str(component.get("status", "")).upper() == "CANCELLED":
        return None
    starts_on = _day(component.get("dtstart"))
    ends_on = _day(component.get("dtend")) if component.get("dtend") is not None else None
    if starts_on is None:
        raise FeedError("invalid", "DTSTART")
    if ends_on is None:
        try:
            duration = getattr(component.get("duration"), "dt", None)
        except Exception:
            raise FeedError("invalid", "DURATION") from None
        if not isinstance(duration, timedelta):
            duration = None
        ends_on = starts_on + max(timedelta(days=1), duration or timedelta(days=1))
    if ends_on <= starts_on:  # a timed event within one day still takes that night
        ends_on = starts_on + timedelta(days=1)
    uid = str(component.get("uid", ""))[:255]
    summary = " ".join(str(component.get("summary", "")).split())[:200]
    return FeedEvent(uid, starts_on, ends_on, summary)


def parse(data: bytes, *, max_events: int = MAX_EVENTS) -> list[FeedEvent]:
    """The events of an .ics file; FeedError("invalid") for anything that is not one."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise FeedError("invalid", str(error)[:200]) from None
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise FeedError("invalid", "VCALENDAR")
    components = calendar.walk("VEVENT")
    if len(components) > max_events:
        raise FeedError("too-many-events", str(len(components)))
    events = [_event(component) for component in components]
    return [event for event in events if event is not None]


def store_events(session: Session, feed: RoomFeed, events: list[FeedEvent], today: date) -> int:
    """Replaces the subscription's blocks with these events (past ones left out; one event
    is at most a year); returns how many blocks it now has."""
    session.execute(sa.delete(RoomBlock).where(RoomBlock.feed_id == feed.id))
    kept = 0
    for event in events:
        if event.ends_on <= today - timedelta(days=KEEP_PAST_DAYS):
            continue
        ends_on = min(event.ends_on, event.starts_on + timedelta(days=366))
        session.add(
            RoomBlock(room_id=feed.room_id, starts_on=event.starts_on, ends_on=ends_on,
                      kind="ota", note=event.summary, feed_id=feed.id, uid=event.uid)
        )  # fmt: skip
        kept += 1
    session.flush()
    return kept


def record_failure(feed: RoomFeed, error: FeedError) -> None:
    """The fetch failed: its blocks stay as they were; the status says why."""
    feed.last_fetched_at = utcnow()
    feed.last_status = error.code
    feed.last_error = error.detail[:500]


def record_success(feed: RoomFeed, kept: int) -> None:
    feed.last_fetched_at = feed.last_ok_at = utcnow()
    feed.last_status = "ok"
    feed.last_error = ""
    feed.last_events = kept


@dataclass
class FetchLimits:
    timeout: float = TIMEOUT_SECONDS
    max_bytes: int = MAX_BYTES
    max_events: int = MAX_EVENTS


def refresh_feed(session: Session, feed_id: int, today: date, limits: FetchLimits) -> str:
    """Fetches one subscription (no transaction held meanwhile), then under the write lock
    replaces its blocks, or keeps them and records the failure. Commits; returns the status."""
    from app.db import begin_write

    feed = session.get(RoomFeed, feed_id)
    if feed is None:
        session.rollback()
        return "gone"
    url = feed.url
    session.rollback()  # no transaction open while waiting for the booking site
    try:
        events = parse(fetch(url, timeout=limits.timeout, max_bytes=limits.max_bytes),
                       max_events=limits.max_events)  # fmt: skip
        error = None
    except FeedError as failure:
        events, error = [], failure
    begin_write(session)
    feed = session.get(RoomFeed, feed_id)
    if feed is None or feed.url != url:  # removed or changed meanwhile: the next run
        session.rollback()
        return "gone"
    if error is None:
        record_success(feed, store_events(session, feed, events, today))
    else:
        record_failure(feed, error)
    status = feed.last_status
    session.commit()
    return status


def refresh_all(session: Session, today: date, limits: FetchLimits) -> dict[str, int]:
    """Every subscription once, one after another; counts of each outcome."""
    feed_ids = list(session.scalars(sa.select(RoomFeed.id).order_by(RoomFeed.id)))
    session.rollback()
    outcomes: dict[str, int] = {}
    for feed_id in feed_ids:
        status = refresh_feed(session, feed_id, today, limits)
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes
