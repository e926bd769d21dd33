"""Saved segments: the shop's named filters, listed and checked for a free name."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Segment


def saved_segments(session: Session) -> list[Segment]:
    return list(session.scalars(sa.select(Segment).order_by(Segment.name)))


def name_taken(session: Session, name: str, by_other_than: int | None = None) -> bool:
    """Whether another saved segment has this name (case-insensitive)."""
    clash = session.scalar(
        sa.select(Segment.id).where(sa.func.lower(Segment.name) == name.strip().lower())
    )
    return clash is not None and clash != by_other_than


def segment_by_id(session: Session, segment_id: int | None) -> Segment | None:
    return session.get(Segment, segment_id) if segment_id is not None else None


def customers_for_labels(session: Session, expression: str, context) -> list:
    """The segment's customers with their families (a child's label names the guardians),
    by name; SegmentError for a bad expression."""
    from sqlalchemy.orm import selectinload

    from app.models import Customer
    from app.services.segments.compiler import customers_query

    query = customers_query(session, expression, context)
    return list(
        session.scalars(
            query.options(selectinload(Customer.family_members)).order_by(
                Customer.display_name, Customer.id
            )
        )
    )
