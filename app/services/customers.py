"""Customer records: create, edit with a version check, archive, family, dates, custom fields."""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, matches_digits
from app.models import Customer, CustomField, CustomFieldValue, FamilyMember, ImportantDate, User
from app.services.phones import digits_of, normal_phone  # noqa: F401  (read from here too)
from app.services.text import trim

MEMBER_PREFIX = "M"
MEMBER_DIGITS = 6

# The profile fields a person edits on the customer form, in display order.
PROFILE_FIELDS = (
    "display_name",
    "nickname",
    "member_number",
    "level",
    "birthday",
    "phone",
    "email",
    "postal_address",
    "preferred_channel",
    "occupation",
    "summary",
    "assigned_user_id",
    "email_opt_out",
    "sms_opt_out",
)


class CustomerError(ValueError):
    """A rule was broken; `field` names the form field, `code` the message to show."""

    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass
class VersionConflict(Exception):
    """Someone saved the customer after this form was opened."""

    current_version: int
    # field -> (value saved by the other person, value in this form)
    differences: dict[str, tuple[object, object]] = field(default_factory=dict)


def format_member_number(number: int) -> str:
    return f"{MEMBER_PREFIX}{number:0{MEMBER_DIGITS}d}"


def next_member_number(session: Session) -> str:
    """One more than the highest number in the M000123 pattern.

    Called inside a write transaction (app.db: the write lock is held), so two processes cannot pick the
    same number; the unique index is the last line of defence.
    """
    highest = session.scalar(
        sa.select(sa.func.max(Customer.member_number)).where(
            matches_digits(Customer.member_number, MEMBER_PREFIX, MEMBER_DIGITS)
        )
    )
    current = int(highest[len(MEMBER_PREFIX) :]) if highest else 0
    return format_member_number(current + 1)


def _clean(value):
    if isinstance(value, str):
        value = trim(value)
        return value or None
    return value


def _check_unique_member_number(session: Session, number: str, customer_id: int | None) -> None:
    query = sa.select(Customer.id).where(Customer.member_number == number)
    if customer_id is not None:
        query = query.where(Customer.id != customer_id)
    if session.scalar(query) is not None:
        raise CustomerError("member_number", "taken")


def _apply_profile(customer: Customer, data: dict) -> None:
    for name in PROFILE_FIELDS:
        if name in data:
            value = _clean(data[name])
            if name in ("email_opt_out", "sms_opt_out"):
                value = bool(value)
            if name == "email" and value:
                value = value.lower()
            setattr(customer, name, value)
    customer.phone_digits = normal_phone(customer.phone)


def record_consent_changes(
    customer: Customer,
    before: set[str],
    after: set[str],
    method: str | None,
    actor: User | None,
    source: str | None = None,
) -> str:
    """One history row per purpose given or withdrawn; returns "+marketing -service"."""
    from app.models import ConsentEvent

    now = utcnow()
    for purpose in sorted(after - before):
        customer.consent_events.append(
            ConsentEvent(purpose=purpose, action="given", method=method, at=now,
                         recorded_by_id=actor.id if actor else None, source=source)
        )  # fmt: skip
    for purpose in sorted(before - after):
        customer.consent_events.append(
            ConsentEvent(purpose=purpose, action="withdrawn", method=method, at=now,
                         recorded_by_id=actor.id if actor else None, source=source)
        )  # fmt: skip
    return " ".join(
        [f"+{p}" for p in sorted(after - before)] + [f"-{p}" for p in sorted(before - after)]
    )


def audit_consent(customer: Customer, changes: str | None, actor: User | None) -> None:
    """The audit row for a consent change (after the customer has its id)."""
    from sqlalchemy.orm import object_session

    from app.services import audit

    if changes:
        audit.record(
            object_session(customer),
            "consent.change",
            "customer",
            customer.id,
            detail=changes,
            user_id=actor.id if actor else None,
        )


def _apply_consent(
    customer: Customer, purposes: set[str] | None, method: str | None, actor: User | None
):
    if purposes is None:
        return None
    changes = None
    before = customer.consents
    if set(purposes) != before or (method and method != customer.consent_method):
        changes = record_consent_changes(customer, before, set(purposes), method, actor)
        customer.consent_method = method or customer.consent_method
        customer.consent_given_at = utcnow() if purposes else None
        customer.consent_recorded_by_id = actor.id if actor else None
        customer.consents = purposes
    return changes


def _apply_opt_out_bookkeeping(customer: Customer, was_opted_out: bool, source: str) -> None:
    if customer.email_opt_out and not was_opted_out:
        customer.email_opt_out_at = utcnow()
        customer.email_opt_out_source = source
    elif not customer.email_opt_out:
        customer.email_opt_out_at = None
        customer.email_opt_out_source = None


def set_custom_values(session: Session, customer: Customer, values: dict[int, str]) -> None:
    existing = {value.field_id: value for value in customer.field_values}
    for field_id, text in values.items():
        text = (text or "").strip()
        row = existing.get(field_id)
        if row is None and text:
            customer.field_values.append(CustomFieldValue(field_id=field_id, value=text))
        elif row is not None and text:
            row.value = text
        elif row is not None and not text:
            customer.field_values.remove(row)


def create_customer(
    session: Session,
    data: dict,
    *,
    actor: User | None,
    consent: set[str] | None = None,
    consent_method: str | None = None,
    custom_values: dict[int, str] | None = None,
) -> Customer:
    begin_write(session)
    if not _clean(data.get("display_name")):
        raise CustomerError("display_name", "required")
    number = _clean(data.get("member_number")) or next_member_number(session)
    _check_unique_member_number(session, number, None)
    customer = Customer(version=1)
    _apply_profile(customer, {**data, "member_number": number})
    _apply_opt_out_bookkeeping(customer, False, "staff")
    changes = _apply_consent(customer, consent, consent_method, actor)
    session.add(customer)
    if custom_values:
        set_custom_values(session, customer, custom_values)
    session.flush()
    audit_consent(customer, changes, actor)
    return customer


def _comparable(customer: Customer, name: str):
    value = getattr(customer, name)
    return value


def update_customer(
    session: Session,
    customer: Customer,
    data: dict,
    *,
    expected_version: int,
    actor: User | None,
    consent: set[str] | None = None,
    consent_method: str | None = None,
    custom_values: dict[int, str] | None = None,
) -> Customer:
    """Saves a profile edit, or raises VersionConflict if someone saved in between."""
    begin_write(session)
    session.refresh(customer)
    if customer.version != expected_version:
        differences = {}
        for name in PROFILE_FIELDS:
            if name not in data:
                continue
            mine = _clean(data[name])
            if name in ("email_opt_out", "sms_opt_out"):
                mine = bool(mine)
            theirs = _comparable(customer, name)
            if (mine or None) != (theirs or None):
                differences[name] = (theirs, mine)
        raise VersionConflict(current_version=customer.version, differences=differences)
    if not _clean(data.get("display_name", customer.display_name)):
        raise CustomerError("display_name", "required")
    number = _clean(data.get("member_number")) or customer.member_number
    _check_unique_member_number(session, number, customer.id)
    was_opted_out = customer.email_opt_out
    _apply_profile(customer, {**data, "member_number": number})
    _apply_opt_out_bookkeeping(customer, was_opted_out, "staff")
    changes = _apply_consent(customer, consent, consent_method, actor)
    if custom_values is not None:
        set_custom_values(session, customer, custom_values)
    customer.version = expected_version + 1
    customer.updated_at = utcnow()
    session.flush()
    audit_consent(customer, changes, actor)
    return customer


def archive_customer(session: Session, customer: Customer, archived: bool = True) -> None:
    customer.archived_at = utcnow() if archived else None
    customer.updated_at = utcnow()


def add_family_member(session: Session, customer: Customer, data: dict) -> FamilyMember:
    if not _clean(data.get("name")):
        raise CustomerError("name", "required")
    member = FamilyMember(
        name=_clean(data["name"]),
        relation=_clean(data.get("relation")),
        phone=_clean(data.get("phone")),
        email=(_clean(data.get("email")) or "").lower() or None,
        birthday=data.get("birthday"),
        is_guardian=bool(data.get("is_guardian")),
        can_pick_up=bool(data.get("can_pick_up")),
    )
    customer.family_members.append(member)
    session.flush()
    return member


def add_important_date(
    session: Session, customer: Customer, label: str, when: date
) -> ImportantDate:
    if not _clean(label):
        raise CustomerError("label", "required")
    row = ImportantDate(label=label.strip(), date=when)
    customer.important_dates.append(row)
    session.flush()
    return row


def remove_family_member(
    session: Session, customer_id: int, member_id: int, *, actor_id: int | None, ip: str | None
) -> bool:
    """Deletes one family member of this customer, audited (who was removed stays in the
    audit row's detail). False when there is no such member of this customer."""
    from app.services.audit import record

    member = session.get(FamilyMember, member_id)
    if member is None or member.customer_id != customer_id:
        return False
    detail = f"{member.relation or ''} {member.name}".strip()
    session.delete(member)
    record(session, "customer.family_remove", "customer", customer_id, detail,
           user_id=actor_id, ip=ip)  # fmt: skip
    return True


def remove_important_date(
    session: Session, customer_id: int, date_id: int, *, actor_id: int | None, ip: str | None
) -> bool:
    """Deletes one important date of this customer, audited."""
    from app.services.audit import record

    row = session.get(ImportantDate, date_id)
    if row is None or row.customer_id != customer_id:
        return False
    detail = f"{row.label} {row.date.isoformat()}"
    session.delete(row)
    record(session, "customer.date_remove", "customer", customer_id, detail,
           user_id=actor_id, ip=ip)  # fmt: skip
    return True


# The customer list's sort orders.
LIST_SORTS = {
    "name": Customer.display_name,
    "member": Customer.member_number,
    "level": Customer.level,
    "last_contact": Customer.last_contact_at,
    "created": Customer.created_at,
}


def list_query(
    session: Session, expression: str, context, *, sort: str = "name",
    descending: bool = False, archived: bool = False,
):  # fmt: skip
    """The customer list: those matching a segment expression (SegmentError if it is bad),
    current or archived ones, sorted (never-contacted last whichever way), tags loaded."""
    from sqlalchemy.orm import selectinload

    from app.services import segments

    if expression:
        query = segments.customers_query(session, expression, context, include_archived=True)
    else:
        query = sa.select(Customer)
    query = query.where(  # a merged record's tombstone is in neither list
        Customer.archived_at.is_not(None) if archived else Customer.archived_at.is_(None),
        Customer.merged_into_id.is_(None),
    )
    column = LIST_SORTS.get(sort, Customer.display_name)
    order = column.desc() if descending else column.asc()
    orders = (column.is_(None), order) if sort == "last_contact" else (order,)
    return query.order_by(*orders, Customer.id).options(selectinload(Customer.tags))


def custom_fields(session: Session) -> list[CustomField]:
    return list(
        session.scalars(sa.select(CustomField).order_by(CustomField.position, CustomField.id))
    )


def touch_last_contact(customer: Customer, moment: datetime, *, visit: bool = False) -> None:
    if customer.last_contact_at is None or moment > customer.last_contact_at:
        customer.last_contact_at = moment
    if visit and (customer.last_visit_at is None or moment > customer.last_visit_at):
        customer.last_visit_at = moment


class CustomerFinder:
    """Who a line of an imported history sheet is about: the member number, else a name only
    one (not erased) customer has. Loaded once per sheet."""

    def __init__(self, session: Session):
        self.session = session
        self.by_number = {
            number.lower(): cid
            for number, cid in session.execute(
                sa.select(Customer.member_number, Customer.id).where(
                    Customer.member_number.is_not(None)
                )
            )
            if number
        }
        self.by_name: dict[str, list[int]] = {}
        for cid, name in session.execute(
            sa.select(Customer.id, Customer.display_name).where(Customer.erased_at.is_(None))
        ):
            self.by_name.setdefault(name.strip().lower(), []).append(cid)

    def find(self, member_number: str, name: str) -> tuple[Customer | None, tuple | None]:
        """(customer, None) or (None, (error code, what was typed))."""
        customer_id = self.by_number.get(member_number.lower()) if member_number else None
        if customer_id is None and name:
            found = self.by_name.get(name.strip().lower(), [])
            if len(found) > 1:
                return None, ("customer-ambiguous", name)
            customer_id = found[0] if found else None
        if customer_id is None:
            return None, ("customer", member_number or name)
        return self.session.get(Customer, customer_id), None


def customer_record(session: Session, customer_id: int, *, full: bool = False) -> Customer | None:
    """One customer; `full` loads what their page shows (staff, tags, family, dates, fields)
    in the same few queries."""
    from sqlalchemy.orm import joinedload, selectinload

    query = sa.select(Customer).where(Customer.id == customer_id)
    if full:
        query = query.options(
            joinedload(Customer.assigned_user),
            joinedload(Customer.consent_recorded_by),
            selectinload(Customer.tags),
            selectinload(Customer.family_members),
            selectinload(Customer.important_dates),
            selectinload(Customer.field_values).joinedload(CustomFieldValue.field),
        )
    return session.scalar(query)


def list_page(
    session: Session, expression: str, context, *, sort: str, descending: bool, archived: bool,
    page: int, per_page: int,
):  # fmt: skip
    """One page of the customer list and the segment problem, if the expression has one (then
    the page is empty)."""
    from flask_sqlalchemy.pagination import SelectPagination

    from app.services import segments

    problem = None
    try:
        query = list_query(
            session, expression, context, sort=sort, descending=descending, archived=archived
        )
    except segments.SegmentError as error:
        problem, query = error, sa.select(Customer).where(sa.false())
    return SelectPagination(
        select=query, session=session, page=page, per_page=per_page, error_out=False,
        count=True,
    ), problem  # fmt: skip


def with_open_alerts_assigned_to(session: Session, user_id: int, limit: int = 50) -> list:
    """A staff member's own customers who have an open alert, by name."""
    from app.models import TimelineEntry

    return list(
        session.scalars(
            sa.select(Customer)
            .where(
                Customer.assigned_user_id == user_id,
                Customer.archived_at.is_(None),
                Customer.id.in_(
                    sa.select(TimelineEntry.customer_id).where(
                        TimelineEntry.kind == "alert", TimelineEntry.alert_resolved_at.is_(None)
                    )
                ),
            )
            .order_by(Customer.display_name)
            .limit(limit)
        )
    )


def add_custom_field(session: Session, key: str, label: str) -> CustomField:
    """A field every customer has (merge field custom.KEY); a key is made when none is given.
    CustomerError("key", "taken") when another field uses it."""
    begin_write(session)
    key = key.strip()
    if not key:
        key = f"field_{(session.scalar(sa.select(sa.func.max(CustomField.id))) or 0) + 1}"
    if session.scalar(sa.select(CustomField.id).where(CustomField.key == key)):
        raise CustomerError("key", "taken")
    position = (session.scalar(sa.select(sa.func.max(CustomField.position))) or 0) + 1
    field = CustomField(key=key, label=label.strip(), position=position)
    session.add(field)
    session.flush()
    return field
