"""SMS delivery receipts: the address Mitake calls back (and every access log then holds) is
good for one message's receipt, once, so a logged address is worth nothing to a reader."""

import urllib.parse
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Delivery
from app.services.shop import ensure_shop
from app.tasks import channel_routes
from tests.factories import make_customer
from tests.fakes import FakeProviders


@pytest.fixture
def fakes(app):
    providers = FakeProviders()
    app.config["MITAKE_API_BASE"] = providers.base_url
    yield providers
    providers.stop()


def _sent_sms(app, fakes, count: int) -> list[Delivery]:
    """`count` SMS sent through the Mitake transport as the outbox sends them."""
    shop = ensure_shop(db.session)
    shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
    db.session.commit()
    campaign = Campaign(subject="s", body="b", audience="", status="done", channels=["sms"])
    db.session.add(campaign)
    db.session.commit()
    client = channel_routes(app, "https://crm.example.com")["sms"].transport.open()
    deliveries = []
    for n in range(count):
        key = str(uuid.uuid4())
        number = f"09123450{n:02d}"
        child = make_customer(f"學生{n}")
        msgid = client.send(SimpleNamespace(address=number, data="明天停課", key=key))
        delivery = Delivery(campaign_id=campaign.id, customer_id=child.id, channel="sms",
                            address=number, status="sent", provider_id=msgid,
                            idempotency_key=key)  # fmt: skip
        db.session.add(delivery)
        deliveries.append(delivery)
    client.close()
    db.session.commit()
    return deliveries


def _receipt(client, url: str, msgid: str, statuscode: str):
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "crm.example.com")
    query = urllib.parse.urlencode(
        {"msgid": msgid, "statuscode": statuscode, "StatusFlag": statuscode}
    )
    return client.get(f"{parts.path}?{query}")


def _receipts() -> list:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Delivery.receipt).order_by(Delivery.id)))


def test_a_receipt_address_is_good_for_its_own_message_once(app, client, fakes):
    first, second = _sent_sms(app, fakes, 2)
    urls = [message["response"] for message in fakes.state.sms]
    assert len(set(urls)) == 2  # each message its own address
    # The first message's address cannot report on the second.
    assert _receipt(client, urls[0], second.provider_id, "6").status_code == 200
    assert _receipts() == [None, None]
    # Mitake reports the first one: delivered, and Mitake is told to stop re-sending.
    response = _receipt(client, urls[0], first.provider_id, "4")
    assert response.status_code == 200 and "magicid=sms_gateway_rpack" in response.text
    assert _receipts() == ["delivered", None]
    # Someone who read the address in an access log replays it: nothing changes.
    assert _receipt(client, urls[0], first.provider_id, "6").status_code == 200
    assert _receipts() == ["delivered", None]
    # A made-up or altered address is not found.
    assert _receipt(client, urls[1][:-1] + "x", second.provider_id, "6").status_code == 404
    path = urllib.parse.urlsplit(urls[1]).path
    assert (
        client.get(path.rsplit("/", 2)[0] + "/guess/guess?msgid=x&statuscode=4").status_code == 404
    )
    assert _receipt(client, urls[1], second.provider_id, "6").status_code == 200
    assert _receipts() == ["delivered", "number_error"]
