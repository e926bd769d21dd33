"""Builder functions for test data (CTFd style): plain, explicit, no shared state."""

import itertools

from app.extensions import db
from app.models import Role, User
from app.services.accounts import hash_password

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(role: Role | str = Role.FRONTDESK, *, email: str | None = None, name: str | None = None,
              password: str = PASSWORD, active: bool = True) -> User:
    number = next(_counter)
    user = User(
        email=email or f"{Role(role).value}{number}@example.com",
        name=name or f"{Role(role).value.title()} {number}",
        role=Role(role),
        password_hash=hash_password(password, "pbkdf2:sha256:1000"),
        active=active,
    )
    db.session.add(user)
    db.session.commit()
    return user
