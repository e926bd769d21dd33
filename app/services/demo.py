"""The demo shop: staff logins and sample data for trying Hearth out."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import User
from app.services.accounts import create_user
from app.services.shop import get_shop

DEMO_PASSWORD = "hearth-demo-1"
DEMO_STAFF = [
    ("owner@example.com", "林老闆 Lin", "owner"),
    ("desk@example.com", "陳小姐 Chen", "frontdesk"),
    ("teacher@example.com", "王老師 Wang", "teacher"),
]


def seed_demo(session: Session, *, password_method: str = "scrypt") -> None:
    """Creates the demo shop; safe to call twice (existing demo accounts are kept)."""
    shop = get_shop(session)
    shop.name = "小森林安親班 Little Forest"
    shop.kind = "afterschool"
    shop.timezone = "Asia/Taipei"
    shop.default_locale = "zh_Hant"
    shop.sender_address = "hello@example.com"
    for email, name, role in DEMO_STAFF:
        if session.scalar(sa.select(User.id).where(User.email == email)) is None:
            create_user(
                session,
                email=email,
                name=name,
                role=role,
                password=DEMO_PASSWORD,
                hash_method=password_method,
            )
    session.flush()
