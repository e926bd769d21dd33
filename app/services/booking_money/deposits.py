"""A booking's deposit and payments: the deposit asked when it is booked (a share of the
price, due within a few days), each transfer or payment recorded on the guest's timeline,
what is paid and what is left, and the figures the home page shows."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.models import (
    PAYMENT_KINDS,
    PAYMENT_METHODS,
    BookingTerms,
    Stay,
    StayMoney,
    StayPayment,
    TimelineEntry,
    User,
)
from app.services.booking_money.rates import MoneyError, quote, whole

MAX_MONEY = 100_000_000
DEFAULT_TERMS = {"deposit_percent": 30, "deposit_due_days": 3, "bank_name": "",
                 "bank_account": "", "account_name": ""}  # fmt: skip
LAST_FIVE = re.compile(r"[0-9]{5}")


# ---- the shop's terms -------------------------------------------------------------------------


def terms(session: Session) -> BookingTerms:
    """The shop's deposit terms (the defaults until the owner saves them)."""
    saved = session.scalar(sa.select(BookingTerms).order_by(BookingTerms.id).limit(1))
    return saved or BookingTerms(**DEFAULT_TERMS)


def save_terms(session: Session, values: dict) -> BookingTerms:
    percent = whole(values.get("deposit_percent"), "percent", 0, 100)
    days = whole(values.get("deposit_due_days"), "due-days", 0, 60)
    texts = {}
    for name, longest in (("bank_name", 80), ("bank_account", 40), ("account_name", 80)):
        texts[name] = " ".join((values.get(name) or "").split())
        if len(texts[name]) > longest:
            raise MoneyError("text-long", name)
    saved = session.scalar(sa.select(BookingTerms).order_by(BookingTerms.id).limit(1))
    if saved is None:
        saved = BookingTerms()
        session.add(saved)
    saved.deposit_percent, saved.deposit_due_days = percent, days
    for name, text in texts.items():
        setattr(saved, name, text)
    session.flush()
    return saved


# ---- a booking's deposit ----------------------------------------------------------------------


def thousands(amount: int) -> str:
    """1200 → "1,200", as amounts are written."""
    return f"{amount:,}"


def share(amount: int, percent: int) -> int:
    """percent of amount in whole NT$, halves rounded up."""
    return (amount * percent + 50) // 100


def _price_of(session: Session, stay: Stay) -> int:
    """The agreed amount, or the room's quote when none was typed in."""
    if stay.amount:
        return stay.amount
    if stay.room_id is None or stay.check_out <= stay.check_in:
        return 0
    try:
        return quote(session, stay.room_id, stay.check_in, stay.check_out,
                     stay.adults, min(stay.children, 20)).total  # fmt: skip
    except MoneyError:
        return 0


def booking_saved(session: Session, stay: Stay, today: date) -> StayMoney | None:
    """Called whenever a stay is saved: a new booking gets its deposit (the deposit typed in,
    or the shop's share of the price) due within the shop's days (never after arrival); while
    nothing is paid yet, the amount follows the booking's price."""
    if stay.status != "booked":
        return None  # past stays typed in, cancelled ones: nothing to ask or follow
    money = session.get(StayMoney, stay.id)
    price = _price_of(session, stay)
    if money is None:
        shop_terms = terms(session)
        due_on = min(today + timedelta(days=shop_terms.deposit_due_days), stay.check_in)
        money = StayMoney(stay_id=stay.id, deposit_due_on=max(due_on, today))
        session.add(money)
        percent = shop_terms.deposit_percent
    elif paid_by_kind(session, stay.id)["deposit"] == 0:
        percent = terms(session).deposit_percent
    else:
        return money
    money.quote = price
    money.deposit_due = stay.deposit or share(price, percent)
    session.flush()
    return money


# ---- payments ---------------------------------------------------------------------------------


def paid_by_kind(session: Session, stay_id: int) -> dict[str, int]:
    sums = {kind: 0 for kind in PAYMENT_KINDS}
    sums.update(
        session.execute(
            sa.select(StayPayment.kind, sa.func.sum(StayPayment.amount))
            .where(StayPayment.stay_id == stay_id)
            .group_by(StayPayment.kind)
        ).all()
    )
    return sums


@dataclass
class PaymentValues:
    kind: str
    method: str
    paid_on: date
    amount: int
    account_last5: str | None
    note: str


def _last_five(value, *, required: bool) -> str:
    """The payer's account's last five digits: exactly five when given or required."""
    digits = (value or "").strip()
    if (required or digits) and not LAST_FIVE.fullmatch(digits):
        raise MoneyError("last5")
    return digits


def check_payment(values: dict, today: date) -> PaymentValues:
    """Every rule a payment meets; MoneyError(code) for the first one broken. A transfer
    carries the last five digits of the payer's account, exactly five."""
    kind, method = values.get("kind"), values.get("method") or "transfer"
    if kind not in PAYMENT_KINDS or method not in PAYMENT_METHODS:
        raise MoneyError("kind")
    paid_on = values.get("paid_on")
    if not isinstance(paid_on, date):
        raise MoneyError("paid-on")
    if paid_on > today or paid_on.year < today.year - 5:
        raise MoneyError("paid-on-range")
    amount = whole(values.get("amount"), "amount", 1, MAX_MONEY)
    digits = _last_five(values.get("account_last5"), required=method == "transfer" and
                        kind != "refund")  # fmt: skip
    note = " ".join((values.get("note") or "").split())
    if len(note) > 200:
        raise MoneyError("text-long", "note")
    return PaymentValues(kind, method, paid_on, amount, digits or None, note)


def payment_words(kind: str) -> str:
    from flask_babel import gettext as _

    return {"deposit": _("Deposit"), "balance": _("Balance"), "refund": _("Refund")}[kind]


def method_words(method: str) -> str:
    from flask_babel import gettext as _

    return {"transfer": _("Bank transfer"), "cash": _("Cash"), "card": _("Card")}[method]


def _payment_text(payment: StayPayment, locale: str) -> str:
    """The timeline's words, stored once in the shop's language."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with force_locale(locale):
        what = _("%(kind)s paid", kind=payment_words(payment.kind))
        if payment.kind == "refund":
            what = _("Refund paid back")
        text = f"{what}: NT${payment.amount:,} · {method_words(payment.method)}"
        if payment.account_last5:
            text += " · " + _("account ending %(digits)s", digits=payment.account_last5)
    return f"{text} — {payment.note}" if payment.note else text


def _local_noon(day: date, zone: str) -> datetime:
    local = datetime.combine(day, time(12), tzinfo=ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def add_timeline_line(
    session: Session, customer_id: int, body: str, author: User | None, at: datetime | None = None
) -> TimelineEntry:
    entry = TimelineEntry(customer_id=customer_id, kind="note", action="booking_money",
                          body=body, author_id=author.id if author else None)  # fmt: skip
    if at is not None:
        entry.created_at = at
    session.add(entry)
    session.flush()
    return entry


def record_payment(
    session: Session, stay: Stay, values: dict, *, actor: User | None, today: date,
    zone: str = "Asia/Taipei",
) -> StayPayment:  # fmt: skip
    """A deposit, balance or refund for the stay, with its line on the guest's timeline."""
    from app.services.shop import get_shop

    checked = check_payment(values, today)
    payment = StayPayment(stay_id=stay.id, customer_id=stay.customer_id,
                          recorded_by_id=actor.id if actor else None, **checked.__dict__)  # fmt: skip
    session.add(payment)
    session.flush()
    locale = get_shop(session).default_locale or "zh_Hant"
    at = None if checked.paid_on == today else _local_noon(checked.paid_on, zone)
    entry = add_timeline_line(session, stay.customer_id, _payment_text(payment, locale), actor, at)
    payment.entry_id = entry.id
    session.flush()
    return payment


def payments(session: Session, stay_id: int) -> list[StayPayment]:
    return list(
        session.scalars(
            sa.select(StayPayment)
            .where(StayPayment.stay_id == stay_id)
            .options(joinedload(StayPayment.recorded_by))
            .order_by(StayPayment.paid_on, StayPayment.id)
        )
    )


# ---- what the money panel shows ---------------------------------------------------------------


@dataclass
class MoneyState:
    price: int  # the agreed amount, or the quote
    deposit_due: int
    deposit_due_on: date | None
    paid: int  # deposits and balances less refunds
    deposit_paid_in: int
    refunded: int
    reminded_at: datetime | None

    @property
    def balance(self) -> int:
        return max(0, self.price - self.paid)

    @property
    def deposit_paid(self) -> bool:
        return self.deposit_due > 0 and self.deposit_paid_in >= self.deposit_due

    def deposit_late(self, today: date) -> bool:
        return (
            not self.deposit_paid
            and self.deposit_due > 0
            and self.deposit_due_on is not None
            and self.deposit_due_on < today
        )


def money_state(session: Session, stay: Stay) -> MoneyState:
    money = session.get(StayMoney, stay.id)
    sums = paid_by_kind(session, stay.id)
    price = stay.amount or (money.quote if money else 0)
    return MoneyState(
        price=price,
        deposit_due=money.deposit_due if money else stay.deposit,
        deposit_due_on=money.deposit_due_on if money else None,
        paid=sums["deposit"] + sums["balance"] - sums["refund"],
        deposit_paid_in=sums["deposit"] + sums["balance"],
        refunded=sums["refund"],
        reminded_at=money.reminded_at if money else None,
    )


# ---- figures for My day and the owner's home --------------------------------------------------


@dataclass
class DueDeposit:
    stay: Stay
    due: int
    paid: int
    due_on: date
    reminded_at: datetime | None

    @property
    def left(self) -> int:
        return max(0, self.due - self.paid)


def deposits_due(session: Session, today: date, *, past_due_only: bool = False) -> list[DueDeposit]:
    """Bookings whose deposit is not fully paid yet (soonest due first); with past_due_only,
    those whose due date has gone by."""
    paid = (
        sa.select(StayPayment.stay_id, sa.func.sum(StayPayment.amount).label("paid"))
        .where(StayPayment.kind.in_(("deposit", "balance")))
        .group_by(StayPayment.stay_id)
        .subquery()
    )
    paid_in = sa.func.coalesce(paid.c.paid, 0)
    query = (
        sa.select(Stay, StayMoney, paid_in)
        .join(StayMoney, StayMoney.stay_id == Stay.id)
        .outerjoin(paid, paid.c.stay_id == Stay.id)
        .where(
            Stay.status == "booked", StayMoney.deposit_due > 0, paid_in < StayMoney.deposit_due
        )  # fmt: skip
        .options(joinedload(Stay.customer), joinedload(Stay.room))
        .order_by(StayMoney.deposit_due_on, Stay.id)
    )
    if past_due_only:
        query = query.where(StayMoney.deposit_due_on < today)
    return [
        DueDeposit(stay, money.deposit_due, int(amount), money.deposit_due_on, money.reminded_at)
        for stay, money, amount in session.execute(query).unique()
    ]


def deposits_past_due(session: Session, today: date) -> list[DueDeposit]:
    return deposits_due(session, today, past_due_only=True)


def income_for_month(session: Session, year: int, month: int) -> int:
    """Money taken in the month (deposits and balances by the day paid), refunds taken off."""
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    signed = sa.case((StayPayment.kind == "refund", -StayPayment.amount), else_=StayPayment.amount)
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(signed), 0)).where(
            StayPayment.paid_on >= start, StayPayment.paid_on < end
        )
    )
    return int(total or 0)
