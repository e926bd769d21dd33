"""Builder functions for test data (CTFd style): plain, explicit, no shared state."""

import itertools

from app.extensions import db
from app.models import Role, User
from app.services.accounts import hash_password

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(
    role: Role | str = Role.FRONTDESK,
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    active: bool = True,
    password_method: str = "pbkdf2:sha256:1000",
) -> User:
    number = next(_counter)
    user = User(
        email=email or f"{Role(role).value}{number}@example.com",
        name=name or f"{Role(role).value.title()} {number}",
        role=Role(role),
        password_hash=hash_password(password, password_method),
        active=active,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_customer(name: str = "王小明", **fields):
    from app.services.customers import create_customer

    data = {"display_name": name, **fields}
    consent = data.pop("consent", {"service", "marketing"})
    customer = create_customer(db.session, data, actor=None, consent=consent)
    db.session.commit()
    return customer


def make_entry(customer, author=None, body: str = "A note", kind: str = "note", created_at=None):
    from app.services.timeline import add_entry

    entry = add_entry(
        db.session, customer, author=author, kind=kind, body=body, created_at=created_at
    )
    db.session.commit()
    return entry


def make_alert(
    customer,
    author=None,
    category: str = "allergy",
    keywords: str = "花生, peanut",
    body: str = "對花生過敏",
):
    from app.services.timeline import add_alert

    entry = add_alert(
        db.session, customer, author=author, category=category, keywords=keywords, body=body
    )
    db.session.commit()
    return entry


def make_tag(name: str = "VIP", colour: str = "amber"):
    from app.services.tags import get_or_create_tag

    tag, _created = get_or_create_tag(db.session, name, colour)
    db.session.commit()
    return tag


def tag_customer(customer, tag, actor=None):
    from app.services.tags import stick

    stick(db.session, customer, tag, actor=actor)
    db.session.commit()


def give_groups(teacher, *names: str):
    """The teacher looks after these classes (class tags by name, as Settings → Groups saves)."""
    from app.services.groups import set_teacher_groups
    from app.services.shop import get_shop

    set_teacher_groups(db.session, get_shop(db.session), teacher, list(names))
    db.session.commit()
