"""Colour tags: stick, peel, create, rename, recolour, merge, delete."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Customer, Tag, User, customer_tag
from app.models.tag import PALETTE
from app.services.timeline import add_tag_event

MAX_TAG_LENGTH = 60


class TagError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise TagError("empty")
    if len(name) > MAX_TAG_LENGTH:
        raise TagError("too-long")
    return name


def find_tag(session: Session, name: str) -> Tag | None:
    return session.scalar(sa.select(Tag).where(sa.func.lower(Tag.name) == name.lower()))


def get_or_create_tag(session: Session, name: str, colour: str | None = None) -> tuple[Tag, bool]:
    name = clean_name(name)
    tag = find_tag(session, name)
    if tag:
        return tag, False
    if colour not in PALETTE:
        colour = PALETTE[session.scalar(sa.select(sa.func.count()).select_from(Tag)) % len(PALETTE)]
    tag = Tag(name=name, colour=colour)
    session.add(tag)
    session.flush()
    return tag, True


def has_tag(session: Session, customer: Customer, tag: Tag) -> bool:
    return (
        session.execute(
            sa.select(customer_tag.c.tag_id).where(
                customer_tag.c.customer_id == customer.id, customer_tag.c.tag_id == tag.id
            )
        ).first()
        is not None
    )


def stick(session: Session, customer: Customer, tag: Tag, *, actor: User | None) -> bool:
    """Adds the tag; returns False if it was already there. Writes a timeline event."""
    if has_tag(session, customer, tag):
        return False
    session.execute(sa.insert(customer_tag).values(customer_id=customer.id, tag_id=tag.id))
    add_tag_event(session, customer, author=actor, tag_name=tag.name, action="added")
    session.expire(customer, ["tags"])
    return True


def peel(session: Session, customer: Customer, tag: Tag, *, actor: User | None) -> bool:
    result = session.execute(
        sa.delete(customer_tag).where(
            customer_tag.c.customer_id == customer.id, customer_tag.c.tag_id == tag.id
        )
    )
    if not result.rowcount:
        return False
    add_tag_event(session, customer, author=actor, tag_name=tag.name, action="removed")
    session.expire(customer, ["tags"])
    return True


def bulk(
    session: Session, customer_ids: list[int], tag: Tag, *, add: bool, actor: User | None
) -> int:
    customers = session.scalars(sa.select(Customer).where(Customer.id.in_(customer_ids))).all()
    changed = 0
    for customer in customers:
        changed += (
            stick(session, customer, tag, actor=actor)
            if add
            else peel(session, customer, tag, actor=actor)
        )
    return changed


def counts(session: Session) -> list[tuple[Tag, int]]:
    rows = session.execute(
        sa.select(Tag, sa.func.count(customer_tag.c.customer_id))
        .outerjoin(customer_tag, customer_tag.c.tag_id == Tag.id)
        .group_by(Tag.id)
        .order_by(Tag.name)
    ).all()
    return [(tag, count) for tag, count in rows]


def rename(session: Session, tag: Tag, new_name: str) -> None:
    new_name = clean_name(new_name)
    other = find_tag(session, new_name)
    if other is not None and other.id != tag.id:
        raise TagError("exists")
    tag.name = new_name


def recolour(tag: Tag, colour: str) -> None:
    if colour not in PALETTE:
        raise TagError("colour")
    tag.colour = colour


def merge(session: Session, source: Tag, target: Tag) -> int:
    """Moves every customer from `source` to `target` (no duplicates) and deletes `source`."""
    if source.id == target.id:
        raise TagError("same")
    already = sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == target.id)
    moved = session.execute(
        sa.update(customer_tag)
        .where(customer_tag.c.tag_id == source.id, customer_tag.c.customer_id.not_in(already))
        .values(tag_id=target.id)
    ).rowcount
    session.execute(sa.delete(customer_tag).where(customer_tag.c.tag_id == source.id))
    session.delete(source)
    session.flush()
    return moved


def delete(session: Session, tag: Tag) -> None:
    session.execute(sa.delete(customer_tag).where(customer_tag.c.tag_id == tag.id))
    session.delete(tag)
    session.flush()


def suggest(
    session: Session, text: str, exclude_ids: set[int] | None = None, limit: int = 8
) -> list[Tag]:
    text = (text or "").strip()
    query = sa.select(Tag).order_by(Tag.name).limit(limit + len(exclude_ids or ()))
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Tag.name.ilike(f"%{escaped}%", escape="\\"))
    return [tag for tag in session.scalars(query) if tag.id not in (exclude_ids or set())][:limit]
