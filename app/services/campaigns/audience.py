"""Who gets a campaign and by which channel: each customer's recipient, or why nobody."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.models import Customer, CustomField, CustomFieldValue, Shop
from app.services.channels import normalise_mobile


@dataclass
class Recipient:
    customer: Customer
    address: str | None
    name: str | None
    skip_reason: str | None = None
    channel: str = "email"


def consents_to(customer: Customer, purpose: str) -> bool:
    """Whether the person may get a message of this purpose: marketing needs their marketing
    consent; a service message (about their own class or booking) their consent to service
    records, or to marketing. The one place that reads a customer's consents for messages."""
    consents = customer.consents
    if purpose == "service":
        return "service" in consents or "marketing" in consents
    return "marketing" in consents


def _email_recipient(customer: Customer, shop_kind: str, service: bool = False) -> Recipient:
    if customer.email_opt_out and not service:  # opted out of marketing mail
        return Recipient(customer, None, None, "opted_out")
    if shop_kind == "afterschool":
        guardians = [m for m in customer.family_members if m.is_guardian]
        for guardian in guardians:
            if guardian.email:
                return Recipient(customer, guardian.email, guardian.name)
        if customer.email:
            return Recipient(customer, customer.email, customer.display_name)
        return Recipient(customer, None, None, "guardian_no_email" if guardians else "no_email")
    if customer.email:
        return Recipient(customer, customer.email, customer.display_name)
    return Recipient(customer, None, None, "no_email")


def _sms_recipient(customer: Customer, shop_kind: str, _service: bool = False) -> Recipient:
    if customer.sms_opt_out:
        return Recipient(customer, None, None, "sms_opted_out", "sms")
    people = []
    if shop_kind == "afterschool":
        people = [(m.phone, m.name) for m in customer.family_members if m.is_guardian]
    people.append((customer.phone, customer.display_name))
    for phone, name in people:
        mobile = normalise_mobile(phone)
        if mobile:
            return Recipient(customer, mobile, name, None, "sms")
    return Recipient(customer, None, None, "no_mobile", "sms")


def _line_recipient(customer: Customer, _shop_kind: str, _service: bool = False) -> Recipient:
    links = sorted(customer.line_links, key=lambda link: link.linked_at, reverse=True)
    active = [link for link in links if link.unfollowed_at is None]
    if active:
        return Recipient(customer, active[0].user_id, active[0].display_name, None, "line")
    return Recipient(customer, None, None, "line_unfollowed" if links else "line_not_linked",
                     "line")  # fmt: skip


_BY_CHANNEL = {"email": _email_recipient, "sms": _sms_recipient, "line": _line_recipient}


def channel_order(customer: Customer, channels: list[str], use_preferred: bool) -> list[str]:
    """The channels to try for this person: their preferred one first (when the campaign
    says so and it is one we can send by), then the campaign's order."""
    order = list(channels or ["email"])
    preferred = customer.preferred_channel
    if use_preferred and preferred in _BY_CHANNEL:
        order = [preferred] + [c for c in order if c != preferred]
    return order


def recipient_for(
    customer: Customer, shop_kind: str, channels: list[str] | None = None,
    use_preferred: bool = False, purpose: str = "marketing",
) -> Recipient:  # fmt: skip
    """Who gets the message for this customer and by which channel, or why nobody does
    (the reason from the first channel tried: the one the person prefers)."""
    if customer.erased_at is not None:
        return Recipient(customer, None, None, "erased")
    if not consents_to(customer, purpose):
        return Recipient(customer, None, None,
                         "no_service_consent" if purpose == "service" else "no_consent")  # fmt: skip
    first = None
    service = purpose == "service"
    for channel in channel_order(customer, channels or ["email"], use_preferred):
        recipient = _BY_CHANNEL[channel](customer, shop_kind, service)
        recipient.channel = channel
        if recipient.skip_reason is None:
            return recipient
        first = first or recipient
    return first


def custom_values_for(session: Session, customer_ids: list[int]) -> dict[int, dict[str, str]]:
    keys = {
        field_id: key
        for field_id, key in session.execute(sa.select(CustomField.id, CustomField.key))
    }
    values: dict[int, dict[str, str]] = {
        cid: {key: "" for key in keys.values()} for cid in customer_ids
    }
    if customer_ids:
        for row in session.execute(
            sa.select(
                CustomFieldValue.customer_id, CustomFieldValue.field_id, CustomFieldValue.value
            ).where(CustomFieldValue.customer_id.in_(customer_ids))
        ):
            values[row.customer_id][keys[row.field_id]] = row.value
    return values


@dataclass
class Audience:
    recipients: list[Recipient] = field(default_factory=list)

    def by_channel(self) -> dict[str, int]:
        """How many will get it by each channel."""
        counts = {"email": 0, "sms": 0, "line": 0}
        for recipient in self.sendable:
            counts[recipient.channel] = counts.get(recipient.channel, 0) + 1
        return counts

    @property
    def sendable(self) -> list[Recipient]:
        return [r for r in self.recipients if r.skip_reason is None]

    def skipped(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for recipient in self.recipients:
            if recipient.skip_reason:
                counts[recipient.skip_reason] = counts.get(recipient.skip_reason, 0) + 1
        return counts


def audience_for(
    session: Session, customers_query, shop: Shop, channels: list[str] | None = None,
    use_preferred: bool = False, purpose: str = "marketing",
) -> Audience:  # fmt: skip
    query = customers_query.options(
        selectinload(Customer.family_members),
        selectinload(Customer.line_links),
        selectinload(Customer.consent_rows),
    ).order_by(Customer.display_name, Customer.id)
    return Audience(
        [
            recipient_for(customer, shop.kind, channels, use_preferred, purpose)
            for customer in session.scalars(query)
        ]
    )
