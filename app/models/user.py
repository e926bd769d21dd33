"""Staff accounts, the classes a teacher looks after, their server-side login sessions and
the login-failure log."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class Role(enum.StrEnum):
    OWNER = "owner"
    FRONTDESK = "frontdesk"
    TEACHER = "teacher"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    sessions: Mapped[list["StaffSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    # The classes/groups a teacher looks after (see UserGroup).
    group_links: Mapped[list["UserGroup"]] = relationship(
        cascade="all, delete-orphan", order_by="UserGroup.id"
    )

    # The session token this request was authenticated with (not a column).
    session_token = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        # Flask-Login stores this in the cookie: the server-side session's token, so that
        # logging out or deactivating the account ends the session for real.
        return self.session_token

    @property
    def groups(self) -> list[str]:
        """The names of the teacher's classes (a class tag's name as it is now)."""
        return sorted(link.name for link in self.group_links)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


class UserGroup(db.Model):
    """A class a teacher looks after: a class tag (renamed with it, gone when it is deleted)
    or, when the shop's classes come from a custom field, one of that field's values."""

    __tablename__ = "user_group"
    __table_args__ = (
        UniqueConstraint("user_id", "tag_id", name="uq_user_group_user_tag"),
        UniqueConstraint("user_id", "value", name="uq_user_group_user_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), index=True)
    value: Mapped[str | None] = mapped_column(String(200))

    tag = relationship("Tag", lazy="joined")

    @property
    def name(self) -> str:
        return self.tag.name if self.tag is not None else (self.value or "")


class StaffSession(db.Model):
    """One signed-in browser. Deleted at logout; its token is new at every login."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginAttempt(db.Model):
    """Failed logins, counted per account and per address for the rate limit."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
