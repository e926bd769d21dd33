"""Staff accounts: sign-in with a rate limit, server-side sessions, account management."""

import functools
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.clock import utcnow
from app.models import LoginAttempt, Role, StaffSession, User

MIN_PASSWORD_LENGTH = 10
# A sign-in lasts a working day (the cookie's lifetime too); older rows are worthless.
SESSION_MAX_AGE = timedelta(hours=12)


@functools.lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Checked against when the email is unknown, with the same method (so the same cost)
    as real passwords: the time a sign-in takes must not tell whether an account exists."""
    return generate_password_hash("not-a-real-password", method=method)


class AccountError(ValueError):
    """A rule about accounts was broken; the message is shown to the user."""


@dataclass
class LoginResult:
    user: User | None = None
    limited: bool = False


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def recent_failures(session: Session, *, email: str, ip: str, window: timedelta) -> tuple[int, int]:
    since = utcnow() - window
    by_email = session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == email, LoginAttempt.at >= since)
    )
    by_ip = session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip == ip, LoginAttempt.at >= since)
    )
    return by_email or 0, by_ip or 0


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str,
    max_failures: int = 10,
    window: timedelta = timedelta(minutes=15),
    hash_method: str = "scrypt",
) -> LoginResult:
    """Checks a sign-in. Unknown email, wrong password and inactive account look alike."""
    email = normalise_email(email)
    by_email, by_ip = recent_failures(session, email=email, ip=ip, window=window)
    if by_email >= max_failures or by_ip >= max_failures:
        return LoginResult(limited=True)
    user = session.scalar(sa.select(User).where(User.email == email))
    password_hash = user.password_hash if user else _dummy_hash(hash_method)
    ok = check_password_hash(password_hash, password or "")
    if user is None or not ok or not user.active:
        session.add(LoginAttempt(email=email, ip=ip))
        return LoginResult()
    return LoginResult(user=user)


def start_session(session: Session, user: User, *, ip: str | None) -> StaffSession:
    """A new server-side session with a fresh token: the id changes at every login."""
    staff_session = StaffSession(token=secrets.token_urlsafe(32), user=user, ip=ip)
    session.add(staff_session)
    user.session_token = staff_session.token
    return staff_session


def purge_expired_sessions(session: Session, max_age: timedelta = SESSION_MAX_AGE) -> int:
    """Deletes the rows of sign-ins older than a working day (the caller commits)."""
    result = session.execute(
        sa.delete(StaffSession).where(StaffSession.created_at < utcnow() - max_age)
    )
    return result.rowcount


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(sa.delete(StaffSession).where(StaffSession.token == token))


# Built once: this runs on every signed-in request, and building the statement each time
# cost more than running it.
_USER_BY_SESSION = (
    sa.select(User)
    .join(StaffSession)
    .where(
        StaffSession.token == sa.bindparam("token"),
        StaffSession.created_at >= sa.bindparam("since"),
    )
)


def load_user_by_session(
    session: Session, token: str, max_age: timedelta = SESSION_MAX_AGE
) -> User | None:
    row = session.execute(
        _USER_BY_SESSION, {"token": token, "since": utcnow() - max_age}
    ).scalar_one_or_none()
    if row is None or not row.active:
        return None
    row.session_token = token
    return row


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password:{MIN_PASSWORD_LENGTH}")


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role | str,
    password: str,
    hash_method: str = "scrypt",
) -> User:
    email = normalise_email(email)
    validate_password(password)
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise AccountError("email-taken")
    user = User(
        email=email,
        name=name.strip(),
        role=Role(role),
        password_hash=hash_password(password, hash_method),
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def active_owner_count(session: Session) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.role == Role.OWNER, User.active.is_(True))
    )


def update_user(
    session: Session, user: User, *, role: Role | str, active: bool, name: str
) -> list[str]:
    """Changes role/active/name; refuses to leave the shop without an active owner.

    Returns the list of changes made (for the audit log).
    """
    role = Role(role)
    changes = []
    losing_owner = user.role == Role.OWNER and user.active and (role != Role.OWNER or not active)
    if losing_owner and active_owner_count(session) <= 1:
        raise AccountError("last-owner")
    if user.role != role:
        changes.append(f"role {user.role.value} -> {role.value}")
        user.role = role
    if user.active != active:
        changes.append("activated" if active else "deactivated")
        user.active = active
        if not active:
            session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user.id))
    if name.strip() and user.name != name.strip():
        changes.append("name changed")
        user.name = name.strip()
    return changes


def reset_password(
    session: Session, user: User, password: str, hash_method: str = "scrypt"
) -> None:
    """Sets a new password and signs the account out everywhere."""
    validate_password(password)
    user.password_hash = hash_password(password, hash_method)
    session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user.id))


def has_owner(session: Session) -> bool:
    return bool(session.scalar(sa.select(User.id).where(User.role == Role.OWNER).limit(1)))


def active_staff(session: Session) -> list[User]:
    """Staff who can be given customers and reminders, by name."""
    return list(session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.name)))


def all_staff(session: Session) -> list[User]:
    """Every staff account, active or not, by name (the audit log's filter)."""
    return list(session.scalars(sa.select(User).order_by(User.name)))


def staff_list(session: Session) -> list[User]:
    """The staff page: active accounts first, by name."""
    return list(session.scalars(sa.select(User).order_by(User.active.desc(), User.name)))
