"""The feed: write, edit (keeping revisions), pin, alerts, pages of entries, the shop feed."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.clock import utcnow
from app.db import begin_write, list_contains
from app.models import Customer, TimelineEntry, TimelineRevision, User
from app.models.timeline import (
    ALERT_CATEGORIES,
    ALERT_SEVERITY,
    CONTACT_KINDS,
    ENTRY_KINDS,
    MAX_BODY_LENGTH,
)
from app.services.customers import touch_last_contact

PAGE_SIZE = 20


class TimelineError(ValueError):
    """Bad input for an entry; `code` picks the message shown to the user."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _check_body(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise TimelineError("empty")
    if len(body) > MAX_BODY_LENGTH:
        raise TimelineError("too-long")
    return body


def normalise_keywords(text: str | None) -> list[str]:
    """ "花生, Peanut ，堅果" -> ["花生", "peanut", "堅果"] (commas of either width, lower case)."""
    parts = [
        part.strip().lower()
        for part in (text or "").replace("，", ",").replace("、", ",").split(",")
    ]
    seen: list[str] = []
    for part in parts:
        if part and part[:40] not in seen:
            seen.append(part[:40])
    return seen


EARLIEST_DAY = date(2000, 1, 1)
# Dated "earlier" by less than this, an entry counts as written when it happened.
BACKDATED_AFTER = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=2)  # a browser's clock a little ahead is not "the future"


def happened_at(day: date | None, clock: time | None, zone: str, now: datetime) -> datetime | None:
    """When something told later happened, as stored (naive UTC), from the shop's local day
    and time (noon when no time is given; today without a time means now): None for "now".
    Never in the future, never before 2000 (TimelineError "future" / "too-old")."""
    if day is None:
        if clock is not None:
            day = now.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
        else:
            return None
    if day < EARLIEST_DAY:
        raise TimelineError("too-old")
    local_today = now.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    if clock is None:
        if day == local_today:
            return None
        clock = time(12, 0)
    moment = datetime.combine(day, clock, ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
    if moment > now + CLOCK_SKEW:
        raise TimelineError("future")
    return moment if now - moment >= BACKDATED_AFTER else None


def add_entry(
    session: Session,
    customer: Customer,
    *,
    author: User | None,
    kind: str,
    body: str | None,
    created_at: datetime | None = None,
    happened: datetime | None = None,
) -> TimelineEntry:
    """A note, call, visit or purchase line; `happened` dates it earlier than now (shown as
    written later, and audited)."""
    if kind not in ENTRY_KINDS or kind in ("alert", "tag"):
        raise TimelineError("kind")
    body = _check_body(body)
    begin_write(session)
    entry = TimelineEntry(
        customer=customer,
        author=author,
        kind=kind,
        body=body,
        created_at=happened or created_at or utcnow(),
        recorded_at=utcnow() if happened else None,
        pinned=False,
    )
    session.add(entry)
    if kind in CONTACT_KINDS:
        touch_last_contact(customer, entry.created_at, visit=kind == "visit")
    session.flush()
    if happened:
        from app.services import audit

        audit.record(
            session, "entry_dated_earlier", "timeline_entry", entry.id,
            f"happened {happened:%Y-%m-%d %H:%M} UTC, written {entry.recorded_at:%Y-%m-%d %H:%M} UTC",
            user_id=author.id if author else None,
        )  # fmt: skip
    return entry


def add_alert(
    session: Session,
    customer: Customer,
    *,
    author: User | None,
    category: str,
    keywords: str | None,
    body: str | None,
    created_at: datetime | None = None,
) -> TimelineEntry:
    """An alert: a pinned entry with a category and keywords, shown on every view."""
    if category not in ALERT_CATEGORIES:
        raise TimelineError("category")
    normalised = normalise_keywords(keywords)
    if not normalised:
        raise TimelineError("keywords")
    begin_write(session)
    entry = TimelineEntry(
        customer=customer,
        author=author,
        kind="alert",
        body=_check_body(body),
        created_at=created_at or utcnow(),
        pinned=True,
        alert_category=category,
        alert_keywords=normalised,
    )
    session.add(entry)  # an alert is not a contact: last contact stays as it was
    session.flush()
    return entry


def resolve_alert(session: Session, entry: TimelineEntry, *, actor: User | None) -> None:
    """Ends an alert; it stays in the timeline as history, unpinned."""
    if not entry.is_alert or entry.alert_resolved_at is not None:
        return
    entry.alert_resolved_at = utcnow()
    entry.alert_resolved_by_id = actor.id if actor else None
    entry.pinned = False


def add_tag_event(
    session: Session, customer: Customer, *, author: User | None, tag_name: str, action: str
):
    entry = TimelineEntry(
        customer=customer,
        author=author,
        kind="tag",
        body=tag_name,
        action=action,
        created_at=utcnow(),
    )
    session.add(entry)
    return entry


def can_edit(entry: TimelineEntry, user: User) -> bool:
    """Staff edit their own words; the owner may correct anyone's. System entries stay."""
    if entry.kind in ("tag", "email"):
        return False
    return entry.author_id == user.id or user.is_owner


def edit_entry(
    session: Session, entry: TimelineEntry, *, editor: User, body: str | None
) -> TimelineEntry:
    body = _check_body(body)
    if body == entry.body:
        return entry
    entry.revisions.append(
        TimelineRevision(body=entry.body, replaced_by_id=editor.id, replaced_at=utcnow())
    )
    entry.body = body
    entry.edited_at = utcnow()
    entry.edited_by_id = editor.id
    session.flush()
    return entry


def set_pinned(entry: TimelineEntry, pinned: bool) -> None:
    if entry.alert_open:
        return  # open alerts stay pinned until resolved
    entry.pinned = pinned


def _with_people(query):
    return query.options(joinedload(TimelineEntry.author), joinedload(TimelineEntry.edited_by))


@dataclass
class Page:
    entries: list[TimelineEntry]
    next_cursor: str | None


def _cursor(entry: TimelineEntry) -> str:
    return f"{entry.created_at.isoformat()}_{entry.id}"


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        moment, _, ident = cursor.rpartition("_")
        return datetime.fromisoformat(moment), int(ident)
    except ValueError:
        return None


def customer_page(
    session: Session, customer_id: int, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """Unpinned entries, newest first, `size` at a time (keyset paging on created_at, id)."""
    query = _with_people(
        sa.select(TimelineEntry).where(
            TimelineEntry.customer_id == customer_id, TimelineEntry.pinned.is_(False)
        )
    )
    return _page(session, query, cursor, size)


def pinned_entries(session: Session, customer_id: int) -> list[TimelineEntry]:
    query = _with_people(
        sa.select(TimelineEntry)
        .where(TimelineEntry.customer_id == customer_id, TimelineEntry.pinned.is_(True))
        .order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc())
    )
    return list(session.scalars(query).unique())


def alert_matches(keyword: str):
    """Alert entries with this keyword (one of their keywords) or category."""
    return sa.and_(
        TimelineEntry.kind == "alert",
        sa.or_(
            list_contains(TimelineEntry.alert_keywords, keyword.strip().lower()),
            TimelineEntry.alert_category == keyword.strip().lower(),
        ),
    )


def shop_feed(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    author_id: int | None = None,
    kind: str | None = None,
    keyword: str | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page:
    query = _with_people(sa.select(TimelineEntry)).options(joinedload(TimelineEntry.customer))
    if (
        keyword
    ):  # an alert keyword or category, or synonyms "花生 = peanut", as the dashboard counts them
        words = [word for word in re.split(r"\s*[=＝]\s*", keyword) if word.strip()]
        query = query.where(sa.or_(*(alert_matches(word) for word in words or [keyword])))
    if start:
        query = query.where(TimelineEntry.created_at >= start)
    if end:
        query = query.where(TimelineEntry.created_at < end)
    if author_id:
        query = query.where(TimelineEntry.author_id == author_id)
    if kind:
        query = query.where(TimelineEntry.kind == kind)
    return _page(session, query, cursor, size)


def _page(session: Session, query, cursor: str | None, size: int) -> Page:
    position = _parse_cursor(cursor)
    if position:
        moment, ident = position
        query = query.where(
            sa.or_(
                TimelineEntry.created_at < moment,
                sa.and_(TimelineEntry.created_at == moment, TimelineEntry.id < ident),
            )
        )
    query = query.order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc()).limit(size + 1)
    rows = list(session.scalars(query).unique())
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, _cursor(rows[-1]) if more and rows else None)


def open_alerts_by_customer(
    session: Session, customer_ids: list[int]
) -> dict[int, list[TimelineEntry]]:
    """Open alerts for many customers in one query (list rows, search results, cards)."""
    if not customer_ids:
        return {}
    rows = session.scalars(
        sa.select(TimelineEntry)
        .where(
            TimelineEntry.kind == "alert",
            TimelineEntry.alert_resolved_at.is_(None),
            TimelineEntry.customer_id.in_(customer_ids),
        )
        .order_by(TimelineEntry.created_at)
    )
    result: dict[int, list[TimelineEntry]] = {}
    for row in rows:
        result.setdefault(row.customer_id, []).append(row)
    for alerts in result.values():
        alerts.sort(key=lambda alert: ALERT_SEVERITY.get(alert.alert_category, 9))
    return result
