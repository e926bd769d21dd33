"""The catalogue, purchases (each with its line on the timeline) and a sheet of past purchases.
(The I-CRM reports on purchases are in app/services/reports/sales.py.)"""

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


@dataclass(frozen=True)
class CatalogueWords:
    """What the shop's own catalogue lets hints say: a name prefix its products share (for
    "e.g. 英文* for every 英文… product"), and whether any product earns points (PV)."""

    prefix: str | None
    uses_points: bool


def catalogue_words(session: Session) -> CatalogueWords:
    names = list(session.scalars(sa.select(Product.name).where(Product.active.is_(True))))
    counts: dict[str, int] = {}
    for name in names:
        head = name[:2] if not name[:1].isascii() else name.split(" ")[0][:6]
        if head and head != name:
            counts[head] = counts.get(head, 0) + 1
    prefix = max(counts, key=lambda head: (counts[head], head)) if counts else None
    uses_points = bool(session.scalar(sa.select(sa.func.count()).where(Product.points > 0)))
    return CatalogueWords(prefix, uses_points)


def wildcard(pattern: str) -> str:
    """A product name with `*` for "anything" as a LIKE pattern (%, _ and \\ taken literally)."""
    return "%".join(_like(part) for part in " ".join((pattern or "").split()).split("*"))


def purchase_counts(session: Session) -> dict[int, int]:
    """Product id -> how many purchases it has (a product without any is not in it)."""
    return dict(
        session.execute(
            sa.select(Purchase.product_id, sa.func.count()).group_by(Purchase.product_id)
        ).all()
    )


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
