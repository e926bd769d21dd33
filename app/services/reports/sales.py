"""The three I-CRM reports on purchases (seeds/002): half a year of purchases per team (the
staff member a customer is assigned to), customers by name with products and quantities; the
purchase history of products from a start date, with `*` as a wildcard in the product's name;
and who should buy again — for products at or above a minimum price or points, each customer's
last purchase date and quantity, oldest first."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Customer, Product, Purchase, User
from app.services.purchases import PurchaseError, wildcard


def half_year_start(today: date) -> date:
    """The same day six months back (the 31st becomes the month's last day)."""
    year, month = today.year, today.month - 6
    if month < 1:
        year, month = year - 1, month + 12
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class TeamRow:
    team: str | None  # the staff member's name; None: no one assigned
    customer_id: int
    customer: str
    member_number: str  # tells two customers of the same name apart
    product: str
    quantity: int
    amount: int


@dataclass
class TeamTotal:
    team: str | None
    customers: int
    quantity: int
    amount: int


def team_totals(rows: list[TeamRow]) -> list[TeamTotal]:
    """Each team's total (of the rows given, in their order)."""
    totals: dict = {}
    customers: dict = {}
    for row in rows:
        total = totals.setdefault(row.team, TeamTotal(row.team, 0, 0, 0))
        total.quantity += row.quantity or 0
        total.amount += row.amount or 0
        customers.setdefault(row.team, set()).add(row.customer_id)
    for team, total in totals.items():
        total.customers = len(customers[team])
    return list(totals.values())


def report_half_year(session: Session, today: date, limit: int | None = None) -> list[TeamRow]:
    """Purchases since half a year ago per team, customers by name, products by name."""
    since = half_year_start(today)
    query = (
        sa.select(
            User.name,
            Customer.id,
            Customer.display_name,
            Customer.member_number,
            Product.name,
            sa.func.sum(Purchase.quantity),
            sa.func.sum(Purchase.quantity * Purchase.unit_price),
        )
        .select_from(Purchase)
        .join(Customer, Customer.id == Purchase.customer_id)
        .join(Product, Product.id == Purchase.product_id)
        .outerjoin(User, User.id == Customer.assigned_user_id)
        .where(Purchase.purchased_on >= since, Purchase.purchased_on <= today)
        .group_by(
            User.name, Customer.id, Customer.display_name, Customer.member_number, Product.name
        )
        .order_by(User.name.is_(None), User.name, Customer.display_name, Customer.id, Product.name)
    )
    if limit:
        query = query.limit(limit)
    return [TeamRow(*row) for row in session.execute(query)]


@dataclass
class HistoryRow:
    day: date
    customer_id: int
    customer: str
    product: str
    quantity: int
    unit_price: int
    amount: int
    note: str


def report_history(
    session: Session, since: date, pattern: str, limit: int | None = None
) -> list[HistoryRow]:
    """Purchases from `since` of products whose name matches the pattern (`*` wildcards;
    without one, the exact name), oldest first."""
    if not (pattern or "").strip():
        raise PurchaseError("pattern")
    rows = session.execute(
        sa.select(
            Purchase.purchased_on,
            Customer.id,
            Customer.display_name,
            Product.name,
            Purchase.quantity,
            Purchase.unit_price,
            Purchase.quantity * Purchase.unit_price,
            Purchase.note,
        )
        .join(Customer, Customer.id == Purchase.customer_id)
        .join(Product, Product.id == Purchase.product_id)
        .where(
            Purchase.purchased_on >= since,
            Product.name.ilike(wildcard(pattern), escape="\\"),
        )
        .order_by(Purchase.purchased_on, Customer.display_name, Purchase.id)
        .limit(limit)
    ).all()
    return [HistoryRow(*row) for row in rows]


@dataclass
class RepurchaseRow:
    customer_id: int
    customer: str
    product: str
    last_day: date
    quantity: int  # bought on that last day
    days_ago: int


def report_repurchase(
    session: Session,
    today: date,
    *,
    min_price: int | None = None,
    min_points: int | None = None,
    limit: int | None = None,
) -> list[RepurchaseRow]:
    """For products at or above the minimum price or points (neither given: every product):
    each customer's last purchase of each, with the quantity bought that day, oldest first
    (the first `limit` rows)."""
    wanted = []
    if min_price is not None:
        wanted.append(Product.price >= min_price)
    if min_points is not None:
        wanted.append(Product.points >= min_points)
    # The last day of each customer and product (read in index order), then what was bought
    # that day (an index look-up per row).
    last = (
        sa.select(
            Purchase.product_id,
            Purchase.customer_id,
            sa.func.max(Purchase.purchased_on).label("day"),
        )
        .where(
            Purchase.product_id.in_(sa.select(Product.id).where(sa.or_(*wanted)))
            if wanted
            else sa.true()
        )
        .group_by(Purchase.product_id, Purchase.customer_id)
        .cte("last_purchase")
    )
    same_day = Purchase.__table__.alias("same_day")
    quantity = (
        sa.select(sa.func.sum(same_day.c.quantity))
        .where(
            same_day.c.product_id == last.c.product_id,
            same_day.c.customer_id == last.c.customer_id,
            same_day.c.purchased_on == last.c.day,
        )
        .scalar_subquery()
    )
    query = (
        sa.select(last.c.customer_id, Customer.display_name, Product.name, last.c.day, quantity)
        .select_from(last)
        .join(Customer, Customer.id == last.c.customer_id)
        .join(Product, Product.id == last.c.product_id)
        .where(Customer.erased_at.is_(None))
        .order_by(last.c.day, Customer.display_name, Product.name)
    )
    if limit:
        # A screenful: only the rows up to the limit-th oldest day (ties kept) are joined to
        # names and sorted by them, not every customer and product (tens of thousands).
        erased = sa.select(Customer.id).where(Customer.erased_at.is_not(None))
        cut = (
            sa.select(last.c.day)
            .where(last.c.customer_id.not_in(erased))
            .order_by(last.c.day)
            .offset(limit - 1)
            .limit(1)
            .scalar_subquery()
        )
        query = query.where(last.c.day <= sa.func.coalesce(cut, last.c.day)).limit(limit)
    rows = []
    for cid, name, product, day, qty in session.execute(query):
        if isinstance(day, str):
            day = date.fromisoformat(day)
        rows.append(RepurchaseRow(cid, name, product, day, qty, (today - day).days))
    return rows
