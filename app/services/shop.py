"""The shop's settings row."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Shop

DEFAULTS = {
    "name": "Hearth",
    "kind": "homestay",
    "timezone": "Asia/Taipei",
    "default_locale": "zh_Hant",
}


def get_shop(session: Session) -> Shop:
    """The settings row; before anyone saved settings, unsaved defaults (reads never write).

    The row is the first by id, so id 1 when it exists: `session.get` finds it in the
    session's identity map without a query when this request already read it (a page asks
    for the shop's zone, kind and words many times)."""
    shop = session.get(Shop, 1) or session.scalar(sa.select(Shop).order_by(Shop.id).limit(1))
    return shop if shop is not None else Shop(**DEFAULTS)


def ensure_shop(session: Session) -> Shop:
    """The settings row, created with the defaults if missing, for code about to change it."""
    shop = session.scalar(sa.select(Shop).order_by(Shop.id).limit(1))
    if shop is None:
        shop = Shop(**DEFAULTS)
        session.add(shop)
        session.flush()
    return shop


def shop_context(session: Session):
    """What segments and rules are evaluated against: now, in the shop's time zone."""
    from app.clock import utcnow
    from app.services.segments import Context

    return Context(now=utcnow(), zone=get_shop(session).timezone)


def record_kinds(session: Session) -> set[str]:
    """The dated-record kinds a staff member may write on a timeline besides notes and calls:
    a homestay has visits/stays and purchases; an after-school centre only the ones it uses
    (it has stays, or purchases), so its composer offers no "stay" it never has."""
    from app.models import Purchase, Stay

    if get_shop(session).kind == "homestay":
        return {"visit", "purchase"}
    kinds = set()
    if session.scalar(sa.select(Stay.id).limit(1)) is not None:
        kinds.add("visit")
    if session.scalar(sa.select(Purchase.id).limit(1)) is not None:
        kinds.add("purchase")
    return kinds
