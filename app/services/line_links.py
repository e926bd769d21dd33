"""Linking LINE users to customers, and what the LINE webhook tells us.

The front desk makes a one-time code on the customer's page (shown with a QR code that
opens a chat with the shop's account, the code already typed); the parent sends it to the
shop's official account and the webhook links their LINE user to the customer. Following
again restores the link; unfollowing is an opt-out of LINE (nothing is pushed to them).
"""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write
from app.models import Customer, LineCode, LineLink, TimelineEntry

CODE_MINUTES = 30
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_USER_ID = re.compile(r"U[0-9a-f]{32}")


def new_code(session: Session, customer: Customer, user_id: int | None) -> LineCode:
    """A fresh six-digit code for this customer (earlier unused ones stop working)."""
    begin_write(session)
    now = utcnow()
    session.execute(
        sa.update(LineCode)
        .where(LineCode.customer_id == customer.id, LineCode.used_at.is_(None))
        .values(expires_at=now)
    )
    while True:
        code = f"{secrets.randbelow(1_000_000):06d}"
        taken = session.get(LineCode, code)
        if taken is None:
            break
        if taken.used_at is not None or taken.expires_at <= now:
            session.delete(taken)  # an old code: its number can be used again
            session.flush()
            break
    record = LineCode(
        code=code,
        customer_id=customer.id,
        created_by_id=user_id,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    session.add(record)
    session.flush()
    return record


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
    kind: str  # "linked" (names: the customers), "ask-code", "bad-code"
    names: list


def handle_events(session: Session, events: list, profile_name=None) -> list[Reply]:
    """Applies follow / unfollow / text-message events; returns the replies to send.
    `profile_name(user_id)` may give the LINE display name for a new link."""
    replies: list[Reply] = []
    for event in events:
        if not isinstance(event, dict):
            continue
        source = event.get("source") or {}
        user_id = source.get("userId") if source.get("type") == "user" else None
        if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
            continue
        kind = event.get("type")
        token = event.get("replyToken") or ""
        if kind == "follow":
            if _follow(session, user_id):
                continue
            replies.append(Reply(token, "ask-code", []))
        elif kind == "unfollow":
            _unfollow(session, user_id)
        elif kind == "message" and (event.get("message") or {}).get("type") == "text":
            text = str((event.get("message") or {}).get("text") or "")[:200]
            match = _CODE.search(text)
            if not match:
                continue
            names = _link(session, user_id, match.group(1), profile_name)
            replies.append(Reply(token, "linked" if names else "bad-code", names or []))
    return replies


def _follow(session: Session, user_id: str) -> bool:
    """Following again restores the user's links; True if there were any."""
    begin_write(session)
    links = session.scalars(sa.select(LineLink).where(LineLink.user_id == user_id)).all()
    for link in links:
        if link.unfollowed_at is not None:
            link.unfollowed_at = None
            _entry(session, link.customer_id, "line_followed", link.display_name or "")
    session.commit()
    return bool(links)


def _unfollow(session: Session, user_id: str) -> None:
    begin_write(session)
    now = utcnow()
    for link in session.scalars(sa.select(LineLink).where(LineLink.user_id == user_id)):
        if link.unfollowed_at is None:
            link.unfollowed_at = now
            _entry(session, link.customer_id, "line_unfollowed", link.display_name or "")
    session.commit()


def _link(session: Session, user_id: str, code: str, profile_name) -> list[str]:
    begin_write(session)
    now = utcnow()
    record = session.get(LineCode, code)
    if record is None or record.used_at is not None or record.expires_at <= now:
        session.commit()
        return []
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
    session.commit()
    return [customer.nickname or customer.display_name]
