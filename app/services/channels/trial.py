"""Settings → SMS and LINE: a test SMS to a number the owner types and a test LINE message
to a linked customer, each reporting the provider's real answer (its id for the message, or
its refusal with its own code, in words); and the providers' status for the page."""

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Customer, LineLink
from app.services.channels import setup
from app.services.channels.base import SendError
from app.services.channels.refusals import refusal_words


@dataclass
class TrialResult:
    ok: bool
    provider: str  # mitake | every8d | line
    code: str | None  # the provider's own code for a refusal (statuscode, -2, 401…)
    reply: str  # the provider's own answer: the message's id, or its refusal as it came
    words: str = ""  # what a refusal means, in the reader's language


@dataclass
class _Job:
    address: str
    data: str
    key: str


@dataclass
class ProviderStatus:
    balance: float | None  # the SMS gateway's points (None: not set up, or not told)
    quota: dict | None  # LINE's month: {"limit", "used"}
    sms_refusal: TrialResult | None  # why the gateway would not tell the balance
    line_refusal: TrialResult | None  # why LINE would not tell the quota


def _send(transport, provider: str, job: _Job) -> TrialResult:
    client = transport.open()
    try:
        reference = client.send(job)
    except SendError as error:
        return _refusal(provider, error)
    finally:
        client.close()
    return TrialResult(True, provider, None, str(reference or ""))


def send_test_sms(shop, config, number: str, text: str) -> TrialResult | None:
    """One SMS to `number` (already normalised) through the saved gateway; None when SMS is
    not set up."""
    transport = setup.sms_transport(shop, config)
    if transport is None:
        return None
    return _send(transport, shop.sms_provider, _Job(number, text, str(uuid.uuid4())))


def send_test_line(shop, config, user_id: str, text: str) -> TrialResult | None:
    """One LINE message to a linked account through the saved channel; None when LINE is
    not set up."""
    transport = setup.line_transport(shop, config)
    if transport is None:
        return None
    return _send(transport, "line", _Job(user_id, text, str(uuid.uuid4())))


def linked_accounts(session: Session, limit: int = 500) -> list[tuple[LineLink, str]]:
    """The LINE accounts a test can go to (still following), with their customer's name."""
    rows = session.execute(
        sa.select(LineLink, Customer.display_name)
        .join(Customer, Customer.id == LineLink.customer_id)
        .where(LineLink.unfollowed_at.is_(None), Customer.erased_at.is_(None))
        .order_by(Customer.display_name, LineLink.id)
        .limit(limit)
    ).all()
    return [(link, name) for link, name in rows]


def _refusal(provider: str, error: SendError) -> TrialResult:
    return TrialResult(False, provider, error.code, error.text, refusal_words(provider, error))


def provider_status(shop, config) -> ProviderStatus:
    """The SMS balance and LINE's monthly quota as the providers report them, or why they
    would not (a wrong password, a token LINE does not accept)."""
    balance = quota = sms_refusal = line_refusal = None
    sms = setup.sms_transport(shop, config)
    if sms is not None:
        try:
            balance = sms.check_balance()
        except SendError as error:
            sms_refusal = _refusal(shop.sms_provider, error)
    api = setup.line_api(shop, config)
    if api is not None:
        try:
            quota = api.check_quota()
        except SendError as error:
            line_refusal = _refusal("line", error)
        finally:
            api.close()
    return ProviderStatus(balance, quota, sms_refusal, line_refusal)
