"""Customer list export to CSV and Excel (.xlsx), with the columns the user picks."""

import csv
import io
from collections.abc import Iterable

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.orm import Session, selectinload

from app.models import Customer, CustomFieldValue

# Column keys: Customer attributes, "tags", "guardians", "consent", "field:<id>"; the
# labels live in the view (translated).
DEFAULT_COLUMNS = ("member_number", "display_name", "level", "phone", "email", "tags")
CHUNK = 1000


def _guardians(customer: Customer) -> str:
    return "; ".join(
        " ".join(part for part in (m.name, m.phone or "", m.email or "") if part)
        for m in customer.family_members
        if m.is_guardian
    )


# Columns that are not one attribute of the customer.
_COMPOSED = {
    "tags": lambda customer: ", ".join(tag.name for tag in customer.tags),
    "guardians": _guardians,
    "consent": lambda customer: ", ".join(sorted(customer.consents)),
}


def _cell(value):
    """A customer's attribute as a sheet shows it: dates as ISO text, yes/blank for flags."""
    if hasattr(value, "hour"):
        return value.isoformat(sep=" ", timespec="minutes")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else ""
    return value if value is not None else ""


def _value(customer: Customer, key: str, custom: dict[int, str]):
    if key in _COMPOSED:
        return _COMPOSED[key](customer)
    if key.startswith("field:"):
        return custom.get(int(key.split(":", 1)[1]), "")
    return _cell(getattr(customer, key))


def rows(session: Session, query, columns: list[str]) -> Iterable[list]:
    """The customers of a query as rows of values, read in chunks (constant memory)."""
    ids = list(
        session.scalars(query.with_only_columns(Customer.id).order_by(None).order_by(Customer.id))
    )
    field_ids = [int(key.split(":", 1)[1]) for key in columns if key.startswith("field:")]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        customers = session.scalars(
            sa.select(Customer)
            .where(Customer.id.in_(chunk))
            .options(
                selectinload(Customer.tags),
                selectinload(Customer.family_members),
                selectinload(Customer.consent_rows),
            )
            .order_by(Customer.id)
        ).all()
        custom: dict[int, dict[int, str]] = {}
        if field_ids:
            for value in session.scalars(
                sa.select(CustomFieldValue).where(
                    CustomFieldValue.customer_id.in_(chunk),
                    CustomFieldValue.field_id.in_(field_ids),
                )
            ):
                custom.setdefault(value.customer_id, {})[value.field_id] = value.value
        for customer in customers:
            yield [_value(customer, key, custom.get(customer.id, {})) for key in columns]


def _safe(value):
    """Cells starting with = + - @ are formulas to Excel: make them text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(header: list[str], data: Iterable[list]) -> bytes:
    """UTF-8 with BOM, so Excel opens Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in data:
        writer.writerow([_safe(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: list[str], data: Iterable[list], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31] or "Customers")
    sheet.append(header)
    for row in data:
        sheet.append([_safe(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_query(session: Session, expression: str, context):
    """The current customers a segment expression names (all of them without one);
    SegmentError for a bad expression."""
    import sqlalchemy as sa

    from app.services import segments

    if expression:
        return segments.customers_query(session, expression, context)
    return sa.select(Customer).where(Customer.archived_at.is_(None))


def count_of(session: Session, query) -> int:
    import sqlalchemy as sa

    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
