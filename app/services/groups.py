"""Classes/groups for the teacher's "Today" view: tags the owner marks, or a custom field."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import (
    Customer,
    CustomFieldValue,
    Shop,
    Tag,
    TimelineEntry,
    User,
    UserGroup,
    customer_tag,
)


def group_names(session: Session, shop: Shop) -> list[str]:
    if shop.group_source == "field":
        if not shop.group_field_id:
            return []
        values = session.scalars(
            sa.select(sa.func.trim(CustomFieldValue.value))
            .where(CustomFieldValue.field_id == shop.group_field_id)
            .distinct()
        )
        return sorted({value for value in values if value})
    return list(
        session.scalars(sa.select(Tag.name).where(Tag.is_group.is_(True)).order_by(Tag.name))
    )


def members(session: Session, shop: Shop, names: list[str]) -> list[Customer]:
    """The (not archived) customers in any of the groups, by name."""
    if not names:
        return []
    if shop.group_source == "field":
        if not shop.group_field_id:
            return []
        ids = sa.select(CustomFieldValue.customer_id).where(
            CustomFieldValue.field_id == shop.group_field_id,
            sa.func.trim(CustomFieldValue.value).in_(names),
        )
    else:
        ids = (
            sa.select(customer_tag.c.customer_id)
            .join(Tag, Tag.id == customer_tag.c.tag_id)
            .where(Tag.is_group.is_(True), Tag.name.in_(names))
        )
    return list(
        session.scalars(
            sa.select(Customer)
            .where(Customer.id.in_(ids), Customer.archived_at.is_(None))
            .order_by(Customer.display_name, Customer.id)
        )
    )


def entries_since(
    session: Session, customer_ids: list[int], since: datetime
) -> dict[int, list[TimelineEntry]]:
    """Each customer's notes/calls/visits written since a moment (today's notes), newest first."""
    result: dict[int, list[TimelineEntry]] = {}
    if not customer_ids:
        return result
    rows = session.scalars(
        sa.select(TimelineEntry)
        .where(
            TimelineEntry.customer_id.in_(customer_ids),
            TimelineEntry.created_at >= since,
            TimelineEntry.kind.in_(("note", "call", "visit", "purchase")),
        )
        .order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc())
    )
    for row in rows:
        result.setdefault(row.customer_id, []).append(row)
    return result


# ---- the owner's settings: which tags (or field) are the classes, and who teaches which ----


class GroupError(ValueError):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code, self.detail = code, detail


def active_teachers(session: Session) -> list:
    from app.models import Role, User

    return list(
        session.scalars(
            sa.select(User)
            .where(User.role == Role.TEACHER, User.active.is_(True))
            .order_by(User.name)
        )
    )


def save_groups(
    session: Session, shop: Shop, *, source: str, field_id: int | None, group_tag_ids: set[int],
    picks: dict[int, list[str]],
) -> None:  # fmt: skip
    """Saves where the classes come from and each teacher's classes (only names that are
    classes)."""
    if source == "field" and not field_id:
        raise GroupError("field")
    shop.group_source, shop.group_field_id = source, field_id
    for tag in session.scalars(sa.select(Tag)):
        tag.is_group = tag.id in group_tag_ids
    session.flush()
    names = set(group_names(session, shop))
    for teacher in active_teachers(session):
        wanted = [name for name in picks.get(teacher.id, []) if name in names]
        set_teacher_groups(session, shop, teacher, wanted)


def set_teacher_groups(session: Session, shop: Shop, teacher: User, names: list[str]) -> None:
    """The teacher's classes, by name: class tags when the shop's classes are tags (a row
    per tag, so the class follows its tag's renames), else the custom field's values."""
    wanted = set(names)
    tags: dict[str, Tag] = {}
    if shop.group_source != "field" and wanted:
        tags = {
            tag.name: tag for tag in session.scalars(sa.select(Tag).where(Tag.name.in_(wanted)))
        }
    keep = [link for link in teacher.group_links if link.name in wanted]
    have = {link.name for link in keep}
    teacher.group_links = keep + [
        UserGroup(tag=tags[name]) if name in tags else UserGroup(value=name)
        for name in sorted(wanted - have)
    ]
    session.flush()


def class_of(session: Session, shop: Shop, customer_ids: list[int]) -> dict[int, str]:
    """Each child's class (the first by name when in several), to tell children apart."""
    if not customer_ids:
        return {}
    if shop.group_source == "field":
        if not shop.group_field_id:
            return {}
        rows = session.execute(
            sa.select(CustomFieldValue.customer_id, sa.func.trim(CustomFieldValue.value)).where(
                CustomFieldValue.field_id == shop.group_field_id,
                CustomFieldValue.customer_id.in_(customer_ids),
            )
        )
    else:
        rows = session.execute(
            sa.select(customer_tag.c.customer_id, Tag.name)
            .join(Tag, Tag.id == customer_tag.c.tag_id)
            .where(Tag.is_group.is_(True), customer_tag.c.customer_id.in_(customer_ids))
        )
    classes: dict[int, str] = {}
    for customer_id, name in rows:
        if name and (customer_id not in classes or name < classes[customer_id]):
            classes[customer_id] = name
    return classes


def put_in_class(session: Session, shop: Shop, customer: Customer, name: str, *, actor) -> bool:
    """Puts a new child in a class (its class tag), so the child is on Today at once; False
    when the name is not one of the shop's class tags."""
    from app.services import tags as tag_service

    if shop.group_source == "field" or not name:
        return False
    tag = session.scalar(sa.select(Tag).where(Tag.is_group.is_(True), Tag.name == name))
    if tag is None:
        return False
    tag_service.stick(session, customer, tag, actor=actor)
    return True


def class_choices(session: Session, shop: Shop) -> list[str]:
    """The classes a new child can be put in on the form (class tags of a centre)."""
    if shop.kind != "afterschool" or shop.group_source == "field":
        return []
    return group_names(session, shop)
