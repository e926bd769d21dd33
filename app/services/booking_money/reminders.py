"""The one reminder about a late deposit: amount, due date and the shop's account, sent by the
guest's own channel (email, SMS or LINE) through the outbox, exactly once per booking."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Customer, Delivery, Stay, StayMoney, User
from app.services.booking_money.deposits import add_timeline_line, money_state, terms, thousands
from app.services.booking_money.rates import MoneyError
from app.services.campaigns.one import send_one
from app.services.channels import normalise_mobile

CHANNEL_ORDER = ("email", "sms", "line")


@dataclass
class Reminded:
    campaign_id: int | None  # the outbox row to send; None when it was sent before
    channel: str | None
    already: bool = False


def _address(customer: Customer, channel: str) -> tuple[str | None, str | None]:
    """(address, recipient name) on the channel, or (None, None)."""
    if channel == "email":
        return (customer.email or None), customer.display_name
    if channel == "sms":
        return normalise_mobile(customer.phone), customer.display_name
    links = sorted(customer.line_links, key=lambda link: link.linked_at, reverse=True)
    active = [link for link in links if link.unfollowed_at is None]
    return (active[0].user_id, active[0].display_name) if active else (None, None)


def channel_for(customer: Customer, set_up: dict[str, bool]) -> tuple[str, str, str | None]:
    """The guest's preferred channel when the shop can send by it and has their address
    there, else the first that works. A booking's reminder is part of the booking, not
    marketing: it goes to guests who declined newsletters too. MoneyError("no-channel")
    when there is no way to reach them."""
    if customer.erased_at is not None:
        raise MoneyError("no-channel")
    order = list(CHANNEL_ORDER)
    if customer.preferred_channel in order:
        order.remove(customer.preferred_channel)
        order.insert(0, customer.preferred_channel)
    for channel in order:
        if not set_up.get(channel):
            continue
        address, name = _address(customer, channel)
        if address:
            return channel, address, name
    raise MoneyError("no-channel")


def reminder_text(session: Session, stay: Stay, locale: str) -> tuple[str, str]:
    """(subject, text) in the shop's language. Braces are dropped: the outbox reads the text
    as a merge template, and a booking's words are never merge fields."""
    from app.services.shop import get_shop

    shop, shop_terms, state = get_shop(session), terms(session), money_state(session, stay)
    left = max(0, state.deposit_due - state.deposit_paid_in)
    with force_locale(locale):
        subject = _("Deposit reminder from %(shop)s", shop=shop.name)
        text = _(
            "Hello %(name)s, the deposit of NT$%(amount)s for your stay from %(check_in)s to "
            "%(check_out)s was due on %(due)s and has not reached us yet.",
            name=stay.customer.display_name, amount=thousands(left), check_in=stay.check_in.isoformat(),
            check_out=stay.check_out.isoformat(),
            due=state.deposit_due_on.isoformat() if state.deposit_due_on else "",
        )  # fmt: skip
        if shop_terms.bank_account:
            text += "\n" + _(
                "Please transfer it to %(bank)s, account %(account)s (%(holder)s) and tell us "
                "the last 5 digits of your account.", bank=shop_terms.bank_name,
                account=shop_terms.bank_account, holder=shop_terms.account_name,
            )  # fmt: skip
        text += "\n" + _("Thank you! %(shop)s", shop=shop.name)
    clean = str.maketrans("", "", "{}%")
    return subject.translate(clean), text.translate(clean)


def remind(
    session: Session, stay: Stay, *, actor: User | None, today: date, set_up: dict[str, bool]
) -> Reminded:
    """Queues the reminder once: the booking's row is claimed first (a second click, or a
    second browser, finds it claimed and sends nothing). The caller commits, then starts
    the outbox (`app.tasks.send_campaign`) for the returned campaign."""
    from app.services.shop import get_shop

    state = money_state(session, stay)
    if stay.status != "booked" or not state.deposit_late(today):
        raise MoneyError("not-late")
    channel, address, name = channel_for(stay.customer, set_up)
    claimed = session.execute(
        sa.update(StayMoney)
        .where(StayMoney.stay_id == stay.id, StayMoney.reminded_at.is_(None))
        .values(reminded_at=utcnow())
    ).rowcount
    if not claimed:
        return Reminded(None, None, already=True)
    locale = get_shop(session).default_locale or "zh_Hant"
    subject, text = reminder_text(session, stay, locale)
    # A service message of the booking's own: no unsubscribe link, not on the campaigns list.
    campaign = send_one(session, stay.customer, channel, subject, text, "service",
                        kind="booking", address=address, name=name,
                        created_by_id=actor.id if actor else None)  # fmt: skip
    session.execute(
        sa.update(StayMoney).where(StayMoney.stay_id == stay.id)
        .values(reminder_campaign_id=campaign.id)
    )  # fmt: skip
    with force_locale(locale):
        line = _("Deposit reminder sent by %(channel)s.", channel=channel_words(channel))
    add_timeline_line(session, stay.customer_id, line, actor)
    return Reminded(campaign.id, channel)


def channel_words(channel: str) -> str:
    return {"email": _("email"), "sms": _("SMS"), "line": "LINE"}[channel]


def reminder_delivery(session: Session, stay_id: int) -> Delivery | None:
    """The late-deposit reminder's delivery for the stay's page: sent, waiting or failed (and
    why), or None when none was sent."""
    return session.scalar(
        sa.select(Delivery)
        .join(StayMoney, StayMoney.reminder_campaign_id == Delivery.campaign_id)
        .where(StayMoney.stay_id == stay_id)
        .limit(1)
    )
