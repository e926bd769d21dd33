"""The shop's settings row and the vocabulary that follows from the shop's kind."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Shop


def get_shop(session: Session) -> Shop:
    """The settings row, created with defaults on first use."""
    shop = session.scalar(sa.select(Shop).order_by(Shop.id).limit(1))
    if shop is None:
        shop = Shop(name="Hearth", kind="homestay", timezone="Asia/Taipei", default_locale="zh_Hant")
        session.add(shop)
        session.flush()
    return shop
