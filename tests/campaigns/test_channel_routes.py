"""SMS and LINE in the app: the owner's settings (secrets never shown again), the LINE
webhook (signature, follow, code, unfollow), the SMS receipt address, link codes on the
customer page, and composing a campaign that goes by each person's preferred channel."""

import json
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Delivery, LineCode, LineLink, TimelineEntry
from app.services.channels.line import sign
from app.services.customers import add_family_member
from app.services.shop import ensure_shop
from tests.factories import make_customer, make_tag, tag_customer
from tests.fakes import FakeProviders, follow_event, line_user_id, text_event, unfollow_event


@pytest.fixture
def fakes(app):
    providers = FakeProviders()
    for key in ("MITAKE_API_BASE", "EVERY8D_API_BASE", "LINE_API_BASE"):
        app.config[key] = providers.base_url
    yield providers
    providers.stop()


def _line_shop():
    shop = ensure_shop(db.session)
    shop.kind, shop.name, shop.default_locale = "afterschool", "小森林", "zh_Hant"
    shop.line_channel_secret, shop.line_access_token = "line-secret", "line-token"
    shop.line_account_id = "@forest"
    shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
    db.session.commit()
    return shop


def _hook(client, events, secret="line-secret", signature=None):
    body = json.dumps({"destination": "U" + "f" * 32, "events": events}).encode()
    return client.post(
        "/hooks/line", data=body, content_type="application/json",
        headers={"X-Line-Signature": signature or sign(secret, body)},
    )  # fmt: skip


def test_owner_sets_up_sms_and_line_and_secrets_are_never_shown(login_as, owner, fakes):
    client = login_as(owner)
    page = client.get("/settings/channels").get_data(as_text=True)
    assert "SMS is not set up yet." in page and "LINE is not set up yet." in page
    form = {"sms_provider": "mitake", "sms_username": "shop", "sms_password": "secret",
            "sms_sender": "", "sms_part_price": "0.85", "line_account_id": "forest",
            "line_channel_secret": "line-secret", "line_access_token": "line-token"}  # fmt: skip
    assert client.post("/settings/channels", data=form).status_code == 302
    shop = ensure_shop(db.session)
    assert (shop.sms_part_price_cents, shop.line_account_id) == (85, "@forest")
    page = client.get("/settings/channels").get_data(as_text=True)
    assert "Balance at the gateway: 10000" in page
    assert "This month: 0 of 1000 messages used." in page
    assert "/hooks/line" in page
    assert "line-token" not in page and "line-secret" not in page and 'value="secret"' not in page
    # Saving again with the secrets left blank keeps them.
    form.update(sms_password="", line_channel_secret="", line_access_token="")
    assert client.post("/settings/channels", data=form).status_code == 302
    db.session.expire_all()
    shop = ensure_shop(db.session)
    assert (shop.sms_password, shop.line_access_token) == ("secret", "line-token")
    # A price that is not a number is refused in words, nothing saved.
    response = client.post("/settings/channels", data={**form, "sms_part_price": "lots"})
    assert response.status_code == 422


def test_webhook_refuses_a_bad_signature_and_links_by_code(app, client, fakes):
    _line_shop()
    child = make_customer("王小明", nickname="小明")
    user = line_user_id(7)
    assert _hook(client, [follow_event(user)], signature="bm90IGEgc2lnbmF0dXJl").status_code == 400
    assert _hook(client, [follow_event(user)], secret="another-secret").status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LineLink)) == 0
    # Following without a code: asked for one.
    assert _hook(client, [follow_event(user)]).status_code == 200
    assert "12 位數代碼" in fakes.state.replies[-1]["messages"][0]["text"]
    from app.services import line_links

    code = line_links.new_code(db.session, child, None, app.secret_key)[1]
    db.session.commit()
    assert _hook(client, [text_event(user, f"我的代碼 {code}")]).status_code == 200
    link = db.session.scalar(sa.select(LineLink))
    assert (link.customer_id, link.user_id, link.unfollowed_at) == (child.id, user, None)
    assert link.display_name == "家長 " + user[-4:]  # from LINE's profile
    assert "小森林" in fakes.state.replies[-1]["messages"][0]["text"]  # the shop, not the child
    # The code works once.
    other = line_user_id(8)
    assert _hook(client, [text_event(other, code)]).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LineLink)) == 1
    # Unfollow = opt-out of LINE; following again restores it.
    _hook(client, [unfollow_event(user)])
    db.session.expire_all()
    assert db.session.scalar(sa.select(LineLink.unfollowed_at)) is not None
    _hook(client, [follow_event(user)])
    db.session.expire_all()
    assert db.session.scalar(sa.select(LineLink.unfollowed_at)) is None
    actions = db.session.scalars(
        sa.select(TimelineEntry.action)
        .where(TimelineEntry.kind == "line")
        .order_by(TimelineEntry.id)
    ).all()
    assert actions == ["line_linked", "line_unfollowed", "line_followed"]


def test_webhook_survives_odd_bodies(client, fakes):
    _line_shop()
    body = b"not json"
    response = client.post("/hooks/line", data=body,
                           headers={"X-Line-Signature": sign("line-secret", body)})  # fmt: skip
    assert response.status_code == 400
    odd = [{"type": "message", "source": {"type": "user", "userId": "../../etc"}},
           {"type": "message", "source": {"type": "group"}, "message": {"type": "text"}}, "x"]  # fmt: skip
    assert _hook(client, odd).status_code == 200
    big = b"{" + b" " * (300 * 1024) + b"}"
    response = client.post("/hooks/line", data=big,
                           headers={"X-Line-Signature": sign("line-secret", big)})  # fmt: skip
    assert response.status_code == 413


def test_sms_receipts_are_noted_on_the_delivery(app, client):
    from app.services.sms_receipts import receipt_address

    child = make_customer("王小明")
    campaign = Campaign(subject="s", body="b", audience="", status="done", channels=["sms"])
    db.session.add(campaign)
    db.session.commit()
    db.session.add(Delivery(campaign_id=campaign.id, customer_id=child.id, channel="sms",
                            address="0912345678", status="sent", provider_id="M000000001",
                            idempotency_key="5f0e8a3c-1111-4222-8333-444455556666"))  # fmt: skip
    db.session.commit()
    key = "5f0e8a3c-1111-4222-8333-444455556666"
    assert (
        client.get(f"/hooks/sms/receipt/{key}/guess?msgid=M000000001&statuscode=4").status_code
        == 404
    )
    path = receipt_address("", app.secret_key, key)
    response = client.get(f"{path}?msgid=M000000001&statuscode=6")
    assert response.status_code == 200 and "magicid=sms_gateway_rpack" in response.text
    assert db.session.scalar(sa.select(Delivery.receipt)) == "number_error"


def test_front_desk_shows_a_code_and_qr_and_unlinks(login_as, owner, frontdesk, fakes, app):
    _line_shop()
    child = make_customer("王小明")
    client = login_as(frontdesk)
    page = client.post(f"/customers/{child.id}/line-code").get_data(as_text=True)
    code = re.search(r'id="line-code"[^>]*>(\d{4}-\d{4}-\d{4})<', page).group(1)
    assert code.replace("-", "") not in page.replace(code, "")  # shown once, as grouped
    assert db.session.scalar(sa.select(LineCode.customer_id)) == child.id
    assert "<svg" in page and "QR" in page
    # A second code replaces the first.
    client.post(f"/customers/{child.id}/line-code")
    db.session.expire_all()
    from app.clock import utcnow

    first, second = db.session.scalars(sa.select(LineCode).order_by(LineCode.created_at)).all()
    assert first.expires_at <= utcnow() < second.expires_at
    db.session.add(LineLink(customer_id=child.id, user_id=line_user_id(1), linked_at=utcnow(),
                            display_name="王媽媽"))  # fmt: skip
    db.session.commit()
    page = client.get(f"/customers/{child.id}").get_data(as_text=True)
    assert "王媽媽" in page and "Linked" in page
    link_id = db.session.scalar(sa.select(LineLink.id))
    assert client.post(f"/customers/line-links/{link_id}/delete").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LineLink)) == 0


def test_compose_by_preferred_channel_counts_and_sends(login_as, owner, fakes, app):
    from app.clock import utcnow

    _line_shop()
    tag = make_tag("班")
    children = []
    for n, preferred in enumerate(["line", "sms", "email", None]):
        child = make_customer(f"學生{n}", nickname=f"東城{n}", preferred_channel=preferred)
        add_family_member(db.session, child, {"name": f"家長{n}", "is_guardian": True,
                                              "email": f"p{n}@example.com", "phone": f"09123450{n:02d}"})  # fmt: skip
        tag_customer(child, tag)
        children.append(child)
    db.session.add(
        LineLink(customer_id=children[0].id, user_id=line_user_id(0), linked_at=utcnow())
    )
    db.session.commit()
    client = login_as(owner)
    # SMS only with no text at all: asked for one, what was typed is kept.
    response = client.post("/campaigns/new", data={
        "audience": "tag:班", "subject": "停課通知", "body": "", "send_by": "sms",
        "fallback": "line,sms,email", "short_text": ""})  # fmt: skip
    assert response.status_code == 422 and "short message" in response.text
    assert 'value="停課通知"' in response.text
    response = client.post("/campaigns/new", data={
        "audience": "tag:班", "subject": "停課通知", "body": "{{ greeting }}\n\n明天停課。",
        "send_by": "preferred", "fallback": "email,sms,line",
        "short_text": "{{ greeting }}：明天停課"})  # fmt: skip
    assert response.status_code == 302
    campaign = db.session.scalar(sa.select(Campaign))
    assert (campaign.channels, campaign.use_preferred) == (["email", "sms", "line"], True)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    counts = re.findall(r'data-channel="(\w+)">[^<]*: <strong>(\d+)</strong>', page)
    assert dict(counts) == {"email": "2", "sms": "1", "line": "1"}
    review = client.get(f"/campaigns/{campaign.id}/review").get_data(as_text=True)
    assert "1 person by SMS" in review and "1 person by LINE" in review
    assert "1000 messages left" in review or "1,000" in review
    assert "The first SMS, exactly as it will go" in review and "東城1家長您好：明天停課" in review
    assert client.post(f"/campaigns/{campaign.id}/send").status_code == 302
    channels = dict(db.session.execute(sa.select(Delivery.customer_id, Delivery.channel)).all())
    assert channels == {children[0].id: "line", children[1].id: "sms", children[2].id: "email",
                        children[3].id: "email"}  # fmt: skip
    keys = db.session.scalars(sa.select(Delivery.idempotency_key)).all()
    assert len(set(keys)) == 4 and all(len(k) == 36 for k in keys)
