"""Colour tags: stick, peel, create, rename, recolour, merge, delete."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Customer, Tag, TagMerge, User, UserGroup, customer_tag
from app.models.tag import PALETTE
from app.services.text import one_line
from app.services.timeline import add_tag_event

MAX_TAG_LENGTH = 60


class TagError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def clean_name(name: str | None) -> str:
    name = one_line(name)
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
    tag.name = new_name  # a teacher's class is the tag itself (UserGroup): it follows


def _teachers_of(session: Session, tag_id: int) -> set[int]:
    return set(session.scalars(sa.select(UserGroup.user_id).where(UserGroup.tag_id == tag_id)))


def _regroup_teachers(session: Session, source: Tag, target: Tag) -> tuple[set[int], set[int]]:
    """A merge moves the teachers of the merged class to the target class. Returns (who had
    `source`, who of them got `target` only now)."""
    had = _teachers_of(session, source.id)
    gained = had - _teachers_of(session, target.id)
    if gained:
        session.execute(
            sa.insert(UserGroup), [{"user_id": uid, "tag_id": target.id} for uid in sorted(gained)]
        )
    session.execute(sa.delete(UserGroup).where(UserGroup.tag_id == source.id))
    _forget_groups(session)
    return had, gained


def _give_back_groups(session: Session, record: TagMerge, tag: Tag) -> None:
    """Undoing a merge: the teachers of the merged class have it (`tag`, made again) back,
    and lose the target class if they had it only through the merge."""
    gained = set(record.teachers_gained_target)
    if record.target_id and gained:
        session.execute(
            sa.delete(UserGroup).where(
                UserGroup.tag_id == record.target_id, UserGroup.user_id.in_(gained)
            )
        )
    users = set(session.scalars(
        sa.select(User.id).where(User.id.in_(record.teachers_had_source))
    ))  # fmt: skip
    if users:
        session.execute(
            sa.insert(UserGroup), [{"user_id": uid, "tag_id": tag.id} for uid in sorted(users)]
        )
    _forget_groups(session)


def _forget_groups(session: Session) -> None:
    """Staff loaded in this session read their classes again (changed above in SQL)."""
    for user in [item for item in session.identity_map.values() if isinstance(item, User)]:
        session.expire(user, ["group_links"])


def recolour(tag: Tag, colour: str) -> None:
    if colour not in PALETTE:
        raise TagError("colour")
    tag.colour = colour


def _customers_with(session: Session, tag_id: int) -> set[int]:
    return set(
        session.scalars(
            sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == tag_id)
        )
    )


def merge_preview(session: Session, source: Tag, target: Tag) -> dict[str, int]:
    """What a merge would do, in numbers, for the confirmation."""
    had_source, had_target = (
        _customers_with(session, source.id),
        _customers_with(session, target.id),
    )
    return {
        "source": len(had_source),
        "target": len(had_target),
        "both": len(had_source & had_target),
        "gain": len(had_source - had_target),
        "after": len(had_source | had_target),
    }


def merge(session: Session, source: Tag, target: Tag, *, actor_id: int | None = None) -> int:
    """Moves every customer from `source` to `target` (no duplicates) and deletes `source`;
    the merge is recorded (TagMerge) so that it can be undone."""
    if source.id == target.id:
        raise TagError("same")
    had_source, had_target = (
        _customers_with(session, source.id),
        _customers_with(session, target.id),
    )
    record = TagMerge(
        source_name=source.name,
        source_colour=source.colour,
        source_is_group=bool(source.is_group),
        target_id=target.id,
        had_source=sorted(had_source),
        gained_target=sorted(had_source - had_target),
        merged_by_id=actor_id,
    )
    already = sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == target.id)
    moved = session.execute(
        sa.update(customer_tag)
        .where(customer_tag.c.tag_id == source.id, customer_tag.c.customer_id.not_in(already))
        .values(tag_id=target.id)
    ).rowcount
    session.execute(sa.delete(customer_tag).where(customer_tag.c.tag_id == source.id))
    teachers_had, teachers_gained = _regroup_teachers(session, source, target)
    record.teachers_had_source = sorted(teachers_had)
    record.teachers_gained_target = sorted(teachers_gained)
    session.delete(source)
    session.add(record)
    session.flush()
    return moved


def last_merge(session: Session) -> TagMerge | None:
    return session.scalar(
        sa.select(TagMerge).where(TagMerge.undone_at.is_(None)).order_by(TagMerge.id.desc())
    )


def undo_merge(session: Session, record: TagMerge) -> Tag:
    """Brings the merged tag back on everyone who had it, and takes the target tag off those
    who only got it through the merge (customers erased or deleted since stay out)."""
    if record.undone_at is not None:
        raise TagError("undone")
    if session.scalar(
        sa.select(Tag.id).where(sa.func.lower(Tag.name) == record.source_name.lower())
    ):
        raise TagError("taken")
    tag = Tag(name=record.source_name, colour=record.source_colour, is_group=record.source_is_group)
    session.add(tag)
    session.flush()
    existing = set(
        session.scalars(
            sa.select(Customer.id).where(
                Customer.id.in_(record.had_source), Customer.erased_at.is_(None)
            )
        )
    )
    if existing:
        session.execute(
            sa.insert(customer_tag), [{"customer_id": cid, "tag_id": tag.id} for cid in existing]
        )
    gained = set(record.gained_target)
    if record.target_id and gained:
        session.execute(
            sa.delete(customer_tag).where(
                customer_tag.c.tag_id == record.target_id, customer_tag.c.customer_id.in_(gained)
            )
        )
    _give_back_groups(session, record, tag)
    record.undone_at = utcnow()
    session.flush()
    return tag


def delete(session: Session, tag: Tag) -> None:
    """Deletes a tag: off every customer, and no teacher's class any more."""
    session.execute(sa.delete(customer_tag).where(customer_tag.c.tag_id == tag.id))
    session.execute(sa.delete(UserGroup).where(UserGroup.tag_id == tag.id))
    _forget_groups(session)
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


def names(session: Session) -> list[str]:
    return list(session.scalars(sa.select(Tag.name).order_by(Tag.name)))


def all_tags(session: Session) -> list[Tag]:
    return list(session.scalars(sa.select(Tag).order_by(Tag.name)))
