"""Cancelling a booking by the shop's refund policy (days before arrival → % of the money paid
back), a no-show keeping the money, and releasing a room whose deposit never came."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import RefundRule, Stay, User
from app.services.booking_money.deposits import (
    add_timeline_line,
    money_state,
    record_payment,
    share,
    thousands,
)
from app.services.booking_money.rates import MoneyError, whole

# The common Taiwan consumer-contract table for lodging: days before arrival → refund %.
DEFAULT_REFUND_RULES = ((14, 100), (10, 70), (7, 50), (4, 40), (2, 30), (1, 20), (0, 0))
MAX_RULES = 20


def refund_rules(session: Session) -> list[tuple[int, int]]:
    """(days before arrival, percent) from the most days down; the default table until the
    owner saves one."""
    saved = session.execute(
        sa.select(RefundRule.days_before, RefundRule.percent).order_by(
            RefundRule.days_before.desc()
        )
    ).all()
    return [tuple(row) for row in saved] or list(DEFAULT_REFUND_RULES)


def save_refund_rules(session: Session, rows: list[tuple]) -> list[tuple[int, int]]:
    """Replaces the policy; blank rows are left out, a day count may appear once, and a row
    for 0 days (the arrival day itself) is required so every cancellation finds its row."""
    rules: dict[int, int] = {}
    for days, percent in rows:
        if days in (None, "") and percent in (None, ""):
            continue
        days = whole(days, "rule-days", 0, 365)
        percent = whole(percent, "rule-percent", 0, 100)
        if days in rules:
            raise MoneyError("rule-twice", str(days))
        rules[days] = percent
    if 0 not in rules:
        raise MoneyError("rule-zero")
    if len(rules) > MAX_RULES:
        raise MoneyError("rule-many")
    session.execute(sa.delete(RefundRule))
    session.add_all(RefundRule(days_before=d, percent=p) for d, p in rules.items())
    session.flush()
    return refund_rules(session)


def refund_percent(rules: list[tuple[int, int]], days_before: int) -> int:
    """The percent of the first rule (most days first) whose days the cancellation meets;
    after the arrival day nothing."""
    for days, percent in sorted(rules, reverse=True):
        if days_before >= days:
            return percent
    return 0


@dataclass
class CancelQuote:
    days_before: int
    percent: int
    paid: int
    refund: int


def cancel_quote(session: Session, stay: Stay, today: date) -> CancelQuote:
    """What cancelling today gives back: the policy's share of the money paid so far."""
    days_before = (stay.check_in - today).days
    percent = refund_percent(refund_rules(session), days_before)
    paid = max(0, money_state(session, stay).paid)
    return CancelQuote(days_before, percent, paid, share(paid, percent))


def _restate(session: Session, stay: Stay, actor: User | None, zone: str) -> None:
    """The stay's own line on the timeline says its new status."""
    from app.services import stays

    session.flush()
    stays._sync_entry(session, stay, actor, zone)  # noqa: SLF001 - the stays service's line


def _in_shop_language(session: Session):
    """Timeline text is stored, so it is written once in the shop's language."""
    from flask_babel import force_locale

    return force_locale(_locale(session))


def _locale(session: Session) -> str:
    from app.services.shop import get_shop

    return get_shop(session).default_locale or "zh_Hant"


def cancel(
    session: Session, stay: Stay, *, actor: User | None, today: date, zone: str = "Asia/Taipei",
    reason: str = "", method: str = "transfer",
) -> CancelQuote:  # fmt: skip
    """Cancels a booked stay: the refund the policy gives is recorded as a payment back and
    the stay is cancelled, both on the guest's timeline. MoneyError("not-booked") when the
    stay is not a booking any more."""
    if stay.status != "booked":
        raise MoneyError("not-booked")
    figures = cancel_quote(session, stay, today)
    if figures.refund:
        record_payment(session, stay, {"kind": "refund", "method": method, "paid_on": today,
                                       "amount": figures.refund}, actor=actor, today=today,
                       zone=zone)  # fmt: skip
    stay.status = "cancelled"
    with _in_shop_language(session):
        text = _(
            "Booking cancelled %(days)d days before arrival: %(percent)d%% of NT$%(paid)s "
            "back, NT$%(refund)s.", days=max(0, figures.days_before), percent=figures.percent,
            paid=thousands(figures.paid), refund=thousands(figures.refund),
        )  # fmt: skip
        if reason:
            text += " " + _("Reason: %(reason)s", reason=reason)
    add_timeline_line(session, stay.customer_id, text, actor)
    _restate(session, stay, actor, zone)
    return figures


def release(
    session: Session, stay: Stay, *, actor: User | None, today: date, zone: str = "Asia/Taipei"
) -> CancelQuote:
    """The room goes back on sale: the booking is cancelled for its unpaid deposit."""
    if stay.status != "booked" or not money_state(session, stay).deposit_late(today):
        raise MoneyError("not-late")
    with _in_shop_language(session):
        reason = _("deposit not paid")
    return cancel(session, stay, actor=actor, today=today, zone=zone, reason=reason)


def no_show(
    session: Session, stay: Stay, *, actor: User | None, today: date, zone: str = "Asia/Taipei"
) -> int:
    """After the arrival day, a guest who never came: the money paid is kept. Returns it."""
    if stay.status != "booked":
        raise MoneyError("not-booked")
    if today <= stay.check_in:
        raise MoneyError("not-yet")
    kept = max(0, money_state(session, stay).paid)
    stay.status = "no_show"
    with _in_shop_language(session):
        text = _("No-show: NT$%(kept)s paid is kept.", kept=thousands(kept))
    add_timeline_line(session, stay.customer_id, text, actor)
    _restate(session, stay, actor, zone)
    return kept
