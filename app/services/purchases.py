"""The catalogue, purchases (each with its line on the timeline) and the I-CRM reports.

The reports are the three the I-CRM article describes (seeds/002): half a year of purchases
per team (the staff member a customer is assigned to), customers by name with products and
quantities; the purchase history of products from a start date, with `*` as a wildcard in the
product's name; and who should buy again — for products at or above a minimum price or
points, each customer's last purchase date and quantity, oldest first.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.models import Customer, Product, Purchase, TimelineEntry, User
from app.services.importer.history import HistoryLine, HistorySpec, day_or_none
from app.services.text import one_line

MAX_QUANTITY = 100_000
MAX_PRICE = 100_000_000  # NT$: anything above is a typing mistake
MAX_NOTE = 500


class PurchaseError(ValueError):
    """code: what is wrong, for the view to word in the user's language."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# ---- the catalogue ----------------------------------------------------------------------------


def _clean_name(name: str | None) -> str:
    name = one_line(name)
    if not name:
        raise PurchaseError("product-name")
    if len(name) > 120:
        raise PurchaseError("product-name-long")
    return name


def _whole(value, code: str, lowest: int, highest: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PurchaseError(code) from None
    if not lowest <= number <= highest:
        raise PurchaseError(code)
    return number


def save_product(
    session: Session, product: Product | None, *, name, price, points, active: bool = True
) -> Product:
    name = _clean_name(name)
    price = _whole(price, "price", 0, MAX_PRICE)
    points = _whole(points, "points", 0, MAX_PRICE)
    clash = session.scalar(sa.select(Product.id).where(sa.func.lower(Product.name) == name.lower()))
    if clash and (product is None or clash != product.id):
        raise PurchaseError("product-exists", name)
    if product is None:
        product = Product(name=name)
        session.add(product)
    product.name, product.price, product.points, product.active = name, price, points, active
    session.flush()
    return product


def products(session: Session, *, active_only: bool = False) -> list[Product]:
    query = sa.select(Product).order_by(Product.active.desc(), Product.name)
    if active_only:
        query = query.where(Product.active.is_(True))
    return list(session.scalars(query))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_products(session: Session, text: str, limit: int = 10) -> list[Product]:
    """Active products whose name contains the text anywhere (as I-CRM completes names)."""
    text = " ".join((text or "").split())[:120]
    if not text:
        return []
    return list(
        session.scalars(
            sa.select(Product)
            .where(Product.active.is_(True), Product.name.ilike(f"%{_like(text)}%", escape="\\"))
            .order_by(sa.func.length(Product.name), Product.name)
            .limit(limit)
        )
    )


def product_by_name(session: Session, name: str) -> Product | None:
    name = " ".join((name or "").split())
    return session.scalar(sa.select(Product).where(sa.func.lower(Product.name) == name.lower()))


# ---- purchases ------------------------------------------------------------------------------


def _entry_text(purchase: Purchase) -> str:
    text = f"{purchase.product.name} × {purchase.quantity} (NT${purchase.amount:,})"
    return f"{text} — {purchase.note}" if purchase.note else text


def _moment(day: date, zone: str) -> datetime:
    """Noon of that day in the shop's zone, stored as naive UTC: the timeline sorts a
    purchase typed in later under the day it happened."""
    local = datetime.combine(day, time(12), tzinfo=ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _check(day, quantity, unit_price, note, today: date) -> tuple[date, int, int, str]:
    if not isinstance(day, date):
        raise PurchaseError("date")
    if day > today + timedelta(days=1) or day.year < 1900:
        raise PurchaseError("date-range")
    quantity = _whole(quantity, "quantity", 1, MAX_QUANTITY)
    unit_price = _whole(unit_price, "price", 0, MAX_PRICE)
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise PurchaseError("note-long")
    return day, quantity, unit_price, note


def add_purchase(
    session: Session,
    customer: Customer,
    *,
    product: Product,
    day: date,
    quantity,
    unit_price=None,
    note: str = "",
    actor: User | None = None,
    today: date,
    zone: str = "Asia/Taipei",
) -> Purchase:
    """A purchase and its line on the timeline; the unit price defaults to the product's."""
    day, quantity, unit_price, note = _check(
        day, quantity, product.price if unit_price in (None, "") else unit_price, note, today
    )
    purchase = Purchase(
        customer_id=customer.id, product=product, purchased_on=day, quantity=quantity,
        unit_price=unit_price, unit_points=product.points, note=note,
        created_by_id=actor.id if actor else None,
    )  # fmt: skip
    entry = TimelineEntry(
        customer_id=customer.id,
        author_id=actor.id if actor else None,
        kind="purchase",
        body=_entry_text(purchase),
        created_at=_moment(day, zone),
        action="purchase",
    )
    session.add_all([purchase, entry])
    session.flush()
    purchase.entry_id = entry.id
    moment = entry.created_at
    if customer.last_contact_at is None or customer.last_contact_at < moment:
        customer.last_contact_at = moment
    return purchase


def edit_purchase(
    session: Session, purchase: Purchase, *, product: Product, day: date, quantity, unit_price,
    note: str, today: date, zone: str = "Asia/Taipei",
) -> Purchase:  # fmt: skip
    day, quantity, unit_price, note = _check(day, quantity, unit_price, note, today)
    if product.id != purchase.product_id:
        purchase.unit_points = product.points
    purchase.product, purchase.purchased_on = product, day
    purchase.quantity, purchase.unit_price, purchase.note = quantity, unit_price, note
    if purchase.entry_id:
        entry = session.get(TimelineEntry, purchase.entry_id)
        if entry is not None:
            entry.body = _entry_text(purchase)
            entry.created_at = _moment(day, zone)
    session.flush()
    return purchase


def delete_purchase(session: Session, purchase: Purchase) -> None:
    if purchase.entry_id:
        entry = session.get(TimelineEntry, purchase.entry_id)
        if entry is not None:
            session.delete(entry)
    session.delete(purchase)
    session.flush()


@dataclass
class CustomerFigures:
    purchases: int
    spend: int
    points: int
    last_purchase: date | None


def figures(session: Session, customer_id: int) -> CustomerFigures:
    count, spend, points, last = session.execute(
        sa.select(
            sa.func.count(Purchase.id),
            sa.func.coalesce(sa.func.sum(Purchase.quantity * Purchase.unit_price), 0),
            sa.func.coalesce(sa.func.sum(Purchase.quantity * Purchase.unit_points), 0),
            sa.func.max(Purchase.purchased_on),
        ).where(Purchase.customer_id == customer_id)
    ).one()
    return CustomerFigures(count, spend, points, last)


def recent_purchases(session: Session, customer_id: int, limit: int = 10) -> list[Purchase]:
    return list(
        session.scalars(
            sa.select(Purchase)
            .where(Purchase.customer_id == customer_id)
            .options(joinedload(Purchase.product))
            .order_by(Purchase.purchased_on.desc(), Purchase.id.desc())
            .limit(limit)
        )
    )


# ---- reports ------------------------------------------------------------------------------


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
    product: str
    quantity: int
    amount: int


def report_half_year(session: Session, today: date, limit: int | None = None) -> list[TeamRow]:
    """Purchases since half a year ago per team, customers by name, products by name."""
    since = half_year_start(today)
    query = (
        sa.select(
            User.name,
            Customer.id,
            Customer.display_name,
            Product.name,
            sa.func.sum(Purchase.quantity),
            sa.func.sum(Purchase.quantity * Purchase.unit_price),
        )
        .select_from(Purchase)
        .join(Customer, Customer.id == Purchase.customer_id)
        .join(Product, Product.id == Purchase.product_id)
        .outerjoin(User, User.id == Customer.assigned_user_id)
        .where(Purchase.purchased_on >= since, Purchase.purchased_on <= today)
        .group_by(User.name, Customer.id, Customer.display_name, Product.name)
        .order_by(User.name.is_(None), User.name, Customer.display_name, Customer.id, Product.name)
    )
    if limit:
        query = query.limit(limit)
    return [TeamRow(*row) for row in session.execute(query)]


def wildcard(pattern: str) -> str:
    """A product name with `*` for "anything" as a LIKE pattern (%, _ and \\ taken literally)."""
    return "%".join(_like(part) for part in " ".join((pattern or "").split()).split("*"))


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
    """For products at or above the minimum price or points: each customer's last purchase
    of each, with the quantity bought that day, oldest first (the first `limit` rows)."""
    if min_price is None and min_points is None:
        raise PurchaseError("threshold")
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
        .where(Purchase.product_id.in_(sa.select(Product.id).where(sa.or_(*wanted))))
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
        query = query.limit(limit)
    rows = []
    for cid, name, product, day, qty in session.execute(query):
        if isinstance(day, str):
            day = date.fromisoformat(day)
        rows.append(RepurchaseRow(cid, name, product, day, qty, (today - day).days))
    return rows


# ---- a purchase history sheet ---------------------------------------------------------------

HISTORY_COLUMNS = {
    "member_number": ["會員編號", "會員號碼", "編號", "membernumber", "memberno", "member"],
    "name": ["姓名", "顧客", "客戶", "名字", "name", "customer"],
    "day": ["日期", "消費日期", "購買日期", "date", "day"],
    "product": ["產品", "品名", "產品名稱", "商品", "product", "item"],
    "quantity": ["數量", "qty", "quantity", "count"],
    "unit_price": ["單價", "價格", "金額", "price", "unitprice"],
    "note": ["備註", "note", "notes", "memo"],
}
MAX_HISTORY_ROWS = 5_000  # one request; larger histories go in several files


def _check_history_line(line: HistoryLine, products_by_name: dict, today: date) -> None:
    """The product by its exact name (any in the catalogue); a date up to today; a quantity
    from 1 and a price in whole NT$ (empty: 1, and the product's price)."""
    values = line.values
    product = products_by_name.get(" ".join(values["product"].split()).lower())
    if product is None:
        line.errors.append(("product", values["product"]))
    day = day_or_none(values["day"])
    if day is None or day > today + timedelta(days=1) or day.year < 1900:
        line.errors.append(("date", values["day"]))
    values["product"], values["day"] = product, day
    for key, lowest in (("quantity", 1), ("unit_price", 0)):
        text = values[key].replace(",", "")
        if not text:
            values[key] = 1 if key == "quantity" else (product.price if product else 0)
        elif text.isdigit() and lowest <= int(text) <= MAX_PRICE:
            values[key] = int(text)
        else:
            line.errors.append((key, values[key]))
    if len(values["note"]) > MAX_NOTE:
        line.errors.append(("note-long", ""))


def _products_by_name(session: Session) -> dict[str, Product]:
    return {product.name.lower(): product for product in products(session)}


def _save_history_line(session: Session, line: HistoryLine, _products, *, actor, today, zone):
    values = line.values
    add_purchase(
        session, line.customer, product=values["product"], day=values["day"],
        quantity=values["quantity"], unit_price=values["unit_price"], note=values["note"],
        actor=actor, today=today, zone=zone,
    )  # fmt: skip


PURCHASE_HISTORY = HistorySpec(
    kind="purchases",
    columns=HISTORY_COLUMNS,
    required=("day", "product"),
    max_rows=MAX_HISTORY_ROWS,
    check_line=_check_history_line,
    save_line=_save_history_line,
    lookup=_products_by_name,
)
