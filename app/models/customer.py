"""Customers (guests or children) with their family, important dates and custom fields."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.db import month_day
from app.extensions import db
from app.models.privacy import CustomerConsent

LEVELS = ("A", "B", "C")
CHANNELS = ("email", "phone", "sms", "line", "in_person")
CONSENT_PURPOSES = ("service", "marketing")
CONSENT_METHODS = ("paper", "in_person", "online")


class Customer(db.Model):
    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_archived_name", "archived_at", "display_name"),
        Index("ix_customer_last_contact", "last_contact_at"),
        # Level lists and the lapsed-regulars count read this index alone.
        Index("ix_customer_level", "level", "archived_at", "last_visit_at"),
        # Birthday filters ("this month", "within 30 days") look up month-day here.
        Index("ix_customer_birthday_md", month_day(sa.column("birthday"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    nickname: Mapped[str | None] = mapped_column(String(60))
    member_number: Mapped[str] = mapped_column(String(20), unique=True)
    level: Mapped[str] = mapped_column(String(1), default="C")
    birthday: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_digits: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    postal_address: Mapped[str | None] = mapped_column(Text)
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    occupation: Mapped[str | None] = mapped_column(String(120))
    summary: Mapped[str | None] = mapped_column(String(200))
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )

    consent_method: Mapped[str | None] = mapped_column(String(20))
    consent_given_at: Mapped[datetime | None] = mapped_column(DateTime)
    consent_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    email_opt_out_at: Mapped[datetime | None] = mapped_column(DateTime)
    email_opt_out_source: Mapped[str | None] = mapped_column(String(60))

    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Anonymised at the person's request: nothing personal is left, the counts stay.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The import that created this customer (imports can be undone as a whole). A plain
    # number, not a foreign key: SQLite cannot add one to an existing table without copying
    # it, and batches are never deleted.
    import_batch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Optimistic locking for profile edits; bumped only by profile edits, not by notes.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Merged into another record of the same person: this row is a tombstone (hidden from
    # lists and search) kept so that the merge can be undone. A plain id, like
    # import_batch_id (no table copy on SQLite).
    merged_into_id: Mapped[int | None] = mapped_column(Integer, index=True)

    assigned_user = relationship("User", foreign_keys=[assigned_user_id])
    consent_recorded_by = relationship("User", foreign_keys=[consent_recorded_by_id])
    tags = relationship(
        "Tag", secondary="customer_tag", order_by="Tag.name", back_populates="customers"
    )
    family_members: Mapped[list["FamilyMember"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="FamilyMember.id"
    )
    important_dates: Mapped[list["ImportantDate"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="ImportantDate.date"
    )
    field_values: Mapped[list["CustomFieldValue"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )
    line_links = relationship(
        "LineLink", cascade="all, delete-orphan", passive_deletes=True, viewonly=False,
        overlaps="customer",
    )  # fmt: skip
    consent_events = relationship(
        "ConsentEvent", cascade="all, delete-orphan", order_by="ConsentEvent.at"
    )
    # The purposes consented to now, a row each (`consents` reads and sets them).
    consent_rows: Mapped[list[CustomerConsent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="CustomerConsent.purpose"
    )

    @property
    def greeting_name(self) -> str:
        return self.nickname or self.display_name

    @property
    def consents(self) -> set[str]:
        """The purposes this person has consented to (a copy: set it to change them)."""
        return {row.purpose for row in self.consent_rows}

    @consents.setter
    def consents(self, purposes) -> None:
        """Keeps the rows of purposes still wanted (with when and how they were given) and
        adds the new ones with the customer's latest consent method."""
        wanted = set(purposes or ())
        for row in [row for row in self.consent_rows if row.purpose not in wanted]:
            self.consent_rows.remove(row)
        have = {row.purpose for row in self.consent_rows}
        self.consent_rows.extend(
            CustomerConsent(purpose=purpose, method=self.consent_method, given_at=utcnow())
            for purpose in sorted(wanted - have)
        )

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class FamilyMember(db.Model):
    """A family member; for a child, the guardians who receive the shop's email."""

    __tablename__ = "family_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    relation: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    birthday: Mapped[date | None] = mapped_column(Date)
    is_guardian: Mapped[bool] = mapped_column(Boolean, default=False)
    # Allowed to pick the child up without being a guardian (a grandmother, a nanny).
    can_pick_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    @property
    def picks_up(self) -> bool:
        """A guardian, or someone the family authorised to pick the child up."""
        return bool(self.is_guardian or self.can_pick_up)

    customer: Mapped[Customer] = relationship(back_populates="family_members")


class ImportantDate(db.Model):
    __tablename__ = "important_date"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(80))
    date: Mapped[date] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="important_dates")


class CustomField(db.Model):
    """A field the owner adds to every customer, e.g. "teacher's words"."""

    __tablename__ = "custom_field"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CustomFieldValue(db.Model):
    __tablename__ = "custom_field_value"
    __table_args__ = (UniqueConstraint("customer_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text, default="")

    customer: Mapped[Customer] = relationship(back_populates="field_values")
    field: Mapped[CustomField] = relationship()
