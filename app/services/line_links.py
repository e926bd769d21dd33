"""Linking LINE users to customers, and what the LINE webhook tells us.

The front desk makes a one-time twelve-digit code on the customer's page (shown with a QR
code that opens a chat with the shop's account, the code already typed); the parent sends
it to the shop's official account and the webhook links their LINE user to the customer.
Following again restores the link; unfollowing is an opt-out of LINE (nothing is pushed to
them). Against guessing: a LINE user who sends five wrong codes in an hour is refused for
the rest of it, and fifty wrong codes in an hour pause codes for everyone; the reply never
names the customer. Each event is applied once: its id is remembered in the same
transaction as its effect.
"""

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, insert_ignore
from app.models import Customer, LineCode, LineCodeFailure, LineEvent, LineLink, TimelineEntry
from app.services import audit

CODE_MINUTES = 30
# Twelve digits (10^12 codes), shown as 1234-5678-9012. With at most 50 wrong codes an hour
# for the whole shop, a stranger guessing has about 1 chance in 10^10 an hour per live code.
CODE_DIGITS = 12
FAILURE_WINDOW = timedelta(hours=1)
FAILURES_PER_USER = 5  # wrong codes from one LINE user in the window, then refused
FAILURES_PER_SHOP = 50  # wrong codes from everyone in the window, then all codes refused
# Applied events are remembered this long; older events (by LINE's timestamp) are ignored,
# so a replay cannot outlive the memory of it.
EVENT_DAYS = 8
EVENT_MAX_AGE = timedelta(days=7)
_MAX_AGE_MS = int(EVENT_MAX_AGE.total_seconds() * 1000)

# After NFKC (full-width digits and dashes become plain): twelve digits, a space or a dash
# allowed between any two, not part of a longer number or a +886 phone number.
_CODE = re.compile(r"(?<![0-9+])(?<![0-9+][ -])[0-9](?:[ -]?[0-9]){11}(?![ -]?[0-9])")
_USER_ID = re.compile(r"U[0-9a-f]{32}")
_EVENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
HANDLED_KINDS = ("follow", "unfollow", "message")  # every other kind is ignored


def format_code(digits: str) -> str:
    return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _code_hash(secret_key: str, digits: str) -> str:
    key = secret_key.encode("utf-8")
    return hmac.new(key, b"hearth-line-code:" + digits.encode(), hashlib.sha256).hexdigest()


def new_code(
    session: Session, customer: Customer, user_id: int | None, secret_key: str
) -> tuple[LineCode, str]:
    """A fresh one-time code for this customer, as shown (1234-5678-9012); earlier unused
    ones stop working. Only its keyed hash is stored."""
    begin_write(session)
    now = utcnow()
    session.execute(
        sa.update(LineCode)
        .where(LineCode.customer_id == customer.id, LineCode.used_at.is_(None))
        .values(expires_at=now)
    )
    while True:
        digits = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        code_hash = _code_hash(secret_key, digits)
        taken = session.get(LineCode, code_hash)
        if taken is None:
            break
        if taken.used_at is not None or taken.expires_at <= now:
            session.delete(taken)  # an old code: its number can be used again
            session.flush()
            break
    record = LineCode(
        code_hash=code_hash,
        customer_id=customer.id,
        created_by_id=user_id,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    session.add(record)
    session.flush()
    return record, format_code(digits)


def links_of(session: Session, customer_id: int) -> list[LineLink]:
    return list(
        session.scalars(
            sa.select(LineLink)
            .where(LineLink.customer_id == customer_id)
            .order_by(LineLink.linked_at.desc())
        )
    )


def _entry(session: Session, customer_id: int, action: str, name: str) -> None:
    session.add(
        TimelineEntry(
            customer_id=customer_id,
            kind="line",
            body=name or "LINE",
            action=action,
            created_at=utcnow(),
        )  # fmt: skip
    )


def unlink(session: Session, link: LineLink, actor_id: int | None) -> None:
    begin_write(session)
    _entry(session, link.customer_id, "line_unlinked", link.display_name or "")
    session.delete(link)


@dataclass
class Reply:
    token: str
    kind: str  # "linked", "ask-code", "bad-code", "wait" (locked out, or codes paused)


@dataclass(frozen=True)
class Event:
    """One webhook event we act on, its shape checked."""

    id: str
    kind: str  # "follow", "unfollow", "code"
    user_id: str
    reply_token: str
    redelivery: bool
    code: str = ""  # the twelve digits, for "code"


def _text(value, pattern: re.Pattern | None = None, longest: int = 256) -> str | None:
    """A string field as LINE documents it, or None."""
    if not isinstance(value, str) or len(value) > longest:
        return None
    if pattern is not None and not pattern.fullmatch(value):
        return None
    return value


def _sender(raw: dict, now_ms: int) -> tuple[str, str, str, bool] | None:
    """(event id, LINE user, reply token, redelivery) of a one-to-one event that is recent
    and well formed, else None."""
    source = raw.get("source")
    if not isinstance(source, dict) or source.get("type") != "user":
        return None
    stamp = raw.get("timestamp")  # milliseconds; clocks may differ by a few minutes
    if type(stamp) is not int or not -300_000 <= now_ms - stamp <= _MAX_AGE_MS:
        return None
    context = raw.get("deliveryContext", {})
    redelivery = context.get("isRedelivery", False) if isinstance(context, dict) else None
    fields = (
        _text(raw.get("webhookEventId"), _EVENT_ID),
        _text(source.get("userId"), _USER_ID),
        _text(raw.get("replyToken", "")),
    )
    if None in fields or not isinstance(redelivery, bool):
        return None
    return (*fields, redelivery)


def _code_in(message) -> str | None:
    """The link code in a text message, if it carries one."""
    if not isinstance(message, dict) or message.get("type") != "text":
        return None
    text = _text(message.get("text"), longest=10**6)
    match = text and _CODE.search(unicodedata.normalize("NFKC", text[:200]))
    return match.group(0).replace(" ", "").replace("-", "") if match else None


def read_event(raw, now_ms: int) -> Event | None:
    """The event if it is one we act on and is shaped as LINE documents it; None for any
    other kind (join, postback, unsend, future ones…), a group's event, a message without a
    code, an event older than the ids we keep, or anything malformed."""
    if not isinstance(raw, dict) or raw.get("type") not in HANDLED_KINDS:
        return None
    sender = _sender(raw, now_ms)
    if sender is None:
        return None
    if raw["type"] != "message":
        return Event(sender[0], raw["type"], *sender[1:])
    code = _code_in(raw.get("message"))
    return Event(sender[0], "code", *sender[1:], code) if code else None


def handle_events(
    session: Session, events: list, secret_key: str, profile_name=None
) -> list[Reply]:
    """Applies follow / unfollow / code-message events, each once however often LINE (or
    anyone replaying its signed body) delivers it; returns the replies to send.
    `profile_name(user_id)` may give the LINE display name for a new link."""
    replies: list[Reply] = []
    now_ms = _now_ms()
    for raw in events:
        event = read_event(raw, now_ms)
        if event is None:
            continue
        begin_write(session)
        # The id goes in within the same transaction as the event's effect: a second
        # delivery (even at the same moment: writers take turns) finds it and does nothing.
        first = session.scalar(
            insert_ignore(LineEvent.__table__, session)
            .values(event_id=event.id, handled_at=utcnow())
            .returning(LineEvent.event_id)
        )
        if first is None:
            session.commit()
            continue
        kind = _apply(session, event, secret_key, profile_name)
        session.commit()
        # LINE's reply token in a redelivery may no longer be valid: the effect is enough.
        if kind and event.reply_token and not event.redelivery:
            replies.append(Reply(event.reply_token, kind))
    return replies


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def _apply(session: Session, event: Event, secret_key: str, profile_name) -> str | None:
    if event.kind == "follow":
        return None if _follow(session, event.user_id) else "ask-code"
    if event.kind == "unfollow":
        _unfollow(session, event.user_id)
        return None
    return _try_code(session, event.user_id, event.code, secret_key, profile_name)


def purge_events(session: Session) -> int:
    """Forgets applied events and wrong codes nobody needs any more (the nightly job)."""
    now = utcnow()
    events = session.execute(
        sa.delete(LineEvent).where(LineEvent.handled_at < now - timedelta(days=EVENT_DAYS))
    ).rowcount
    failures = session.execute(
        sa.delete(LineCodeFailure).where(LineCodeFailure.at < now - timedelta(days=1))
    ).rowcount
    return events + failures


def _follow(session: Session, user_id: str) -> bool:
    """Following again restores the user's links; True if there were any."""
    links = session.scalars(sa.select(LineLink).where(LineLink.user_id == user_id)).all()
    for link in links:
        if link.unfollowed_at is not None:
            link.unfollowed_at = None
            _entry(session, link.customer_id, "line_followed", link.display_name or "")
    return bool(links)


def _unfollow(session: Session, user_id: str) -> None:
    now = utcnow()
    for link in session.scalars(sa.select(LineLink).where(LineLink.user_id == user_id)):
        if link.unfollowed_at is None:
            link.unfollowed_at = now
            _entry(session, link.customer_id, "line_unfollowed", link.display_name or "")


def _failures(session: Session, since, user_id: str | None = None) -> int:
    query = (
        sa.select(sa.func.count()).select_from(LineCodeFailure).where(LineCodeFailure.at >= since)
    )
    if user_id is not None:
        query = query.where(LineCodeFailure.user_id == user_id)
    return session.scalar(query)


def _try_code(session: Session, user_id: str, digits: str, secret_key: str, profile_name) -> str:
    """Links the user to the code's customer: "linked", "bad-code", or "wait" when this
    user sent too many wrong codes, or everyone together did (then even a right code is
    refused, and not counted). Every wrong code is audited, without the code: a parent's
    typo is most of a live one."""
    now = utcnow()
    since = now - FAILURE_WINDOW
    mine = _failures(session, since, user_id)
    everyone = _failures(session, since)
    if mine >= FAILURES_PER_USER or everyone >= FAILURES_PER_SHOP:
        return "wait"
    record = session.get(LineCode, _code_hash(secret_key, digits))
    if record is None or record.used_at is not None or record.expires_at <= now:
        session.add(LineCodeFailure(user_id=user_id, at=now))
        audit.record(session, "line.code_failed",
                     detail=f"LINE {user_id}: {mine + 1} of {FAILURES_PER_USER} this hour")  # fmt: skip
        if mine + 1 == FAILURES_PER_USER:
            audit.record(session, "line.code_locked", detail=f"LINE {user_id}")
        if everyone + 1 == FAILURES_PER_SHOP:
            audit.record(session, "line.codes_paused",
                         detail=f"{FAILURES_PER_SHOP} wrong codes this hour")  # fmt: skip
        return "bad-code"
    record.used_at = now
    customer = session.get(Customer, record.customer_id)
    link = session.scalar(
        sa.select(LineLink).where(LineLink.customer_id == customer.id, LineLink.user_id == user_id)
    )
    name = None
    if profile_name is not None:
        try:
            name = profile_name(user_id)
        except Exception:  # noqa: BLE001 - a name is nice to have, never needed
            name = None
    if link is None:
        link = LineLink(customer_id=customer.id, user_id=user_id, display_name=name,
                        linked_at=now)  # fmt: skip
        session.add(link)
    else:
        link.unfollowed_at = None
        link.display_name = name or link.display_name
    _entry(session, customer.id, "line_linked", name or "")
    return "linked"
