"""Settings → SMS and LINE without help (issue 27 item 2): a test SMS to a number typed and a
test LINE message to a linked customer, each reporting the provider's real answer; a refusal
(wrong Mitake password, Every8d's -2, LINE's 401/400/429) read in the reader's language with
the provider's own code; where LINE's console keeps the secret and token; and a warning when
the app's public address is not HTTPS. Against the small local provider servers in
tests/fakes.py."""

import html
import time

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import AuditEvent, LineLink
from app.services.shop import ensure_shop
from tests.factories import make_customer
from tests.fakes import FakeProviders, line_user_id


@pytest.fixture
def fakes(app):
    providers = FakeProviders()
    for key in ("MITAKE_API_BASE", "EVERY8D_API_BASE", "LINE_API_BASE"):
        app.config[key] = providers.base_url
    yield providers
    providers.stop()


def _shop(provider="mitake", password="secret", token="line-token", base="https://crm.example.com"):
    shop = ensure_shop(db.session)
    shop.kind, shop.name, shop.default_locale = "homestay", "海風民宿", "zh_Hant"
    shop.sms_provider, shop.sms_username, shop.sms_password = provider, "shop", password
    shop.line_channel_secret, shop.line_access_token = "line-secret", token
    shop.public_base_url = base
    db.session.commit()
    return shop


def _zh(client):
    client.post("/language", data={"lang": "zh_Hant"})
    return client


def _link(name="林美華", user_id=None):
    guest = make_customer(name)
    link = LineLink(customer_id=guest.id, user_id=user_id or line_user_id(3), linked_at=utcnow(),
                    display_name="美華")  # fmt: skip
    db.session.add(link)
    db.session.commit()
    return link


def test_a_test_sms_goes_to_the_number_typed_and_shows_the_gateways_id(login_as, owner, fakes):
    _shop()
    client = _zh(login_as(owner))
    page = client.get("/settings/channels").get_data(as_text=True)
    assert "傳送測試簡訊" in page and "簡訊商餘額" in page
    response = client.post("/settings/channels/test-sms", data={"sms-test_number": "0912-345 678"})
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    text = response.get_data(as_text=True)
    assert fakes.state.sms[-1]["to"] == "0912345678"
    assert "海風民宿" in fakes.state.sms[-1]["text"]  # the test says whose it is, in Chinese
    assert "簡訊商已收下測試簡訊" in text and fakes.state.sms[-1]["msgid"] in text
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "settings.sms_test"))
    assert audit is not None and fakes.state.sms[-1]["msgid"] in audit.detail
    # Not a mobile number: asked again in words, nothing sent.
    response = client.post("/settings/channels/test-sms", data={"sms-test_number": "02 2345 6789"})
    assert response.status_code == 422 and "請輸入手機號碼" in response.get_data(as_text=True)
    assert len(fakes.state.sms) == 1


def test_a_wrong_mitake_password_is_named_with_mitakes_own_code(login_as, owner, fakes):
    _shop(password="wrong")
    client = _zh(login_as(owner))
    page = client.get("/settings/channels").get_data(as_text=True)
    # The balance: Mitake's reason, not only "could not get the balance".
    assert 'id="sms-refusal"' in page and "statuscode=e" in page
    assert "帳號或密碼錯誤" in page and "（代碼 e）" in page
    response = client.post("/settings/channels/test-sms", data={"sms-test_number": "0912345678"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "測試簡訊沒有送出" in text and "帳號或密碼錯誤" in text and "statuscode=e" in text
    assert fakes.state.sms == []


def test_every8d_refusals_and_a_gateway_that_does_not_answer(login_as, owner, fakes, app):
    _shop(provider="every8d", password="wrong")
    client = _zh(login_as(owner))
    response = client.post("/settings/channels/test-sms", data={"sms-test_number": "0912345678"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "-2" in text and "帳號或密碼錯誤" in text
    shop = _shop(provider="every8d")
    fakes.state.points = 0
    text = client.post("/settings/channels/test-sms",
                       data={"sms-test_number": "0912345678"}).get_data(as_text=True)  # fmt: skip
    assert "-5" in text and "點數不夠" in text
    # Nobody listening at the gateway's address: said so, no 500.
    fakes.stop()
    shop.sms_provider = "mitake"
    db.session.commit()
    response = client.post("/settings/channels/test-sms", data={"sms-test_number": "0912345678"})
    assert response.status_code == 422 and "沒有回應" in response.get_data(as_text=True)


def test_a_test_line_message_goes_to_the_linked_customer_picked(login_as, owner, fakes):
    _shop()
    link = _link()
    client = _zh(login_as(owner))
    page = client.get("/settings/channels").get_data(as_text=True)
    assert "林美華 · 美華" in page
    response = client.post("/settings/channels/test-line", data={"line-link_id": str(link.id)})
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert fakes.state.line[-1]["to"] == link.user_id
    assert "海風民宿" in fakes.state.line[-1]["text"]
    assert "LINE 已收下測試訊息" in response.get_data(as_text=True)
    # Someone not in the list (or nobody) is refused in words.
    response = client.post("/settings/channels/test-line", data={"line-link_id": "999"})
    assert response.status_code == 422 and "請從選項中選擇一個" in response.get_data(as_text=True)
    assert len(fakes.state.line) == 1


def test_lines_refusals_in_words_with_its_code(login_as, owner, fakes):
    shop = _shop(token="an-old-token")
    link = _link()
    client = _zh(login_as(owner))
    page = client.get("/settings/channels").get_data(as_text=True)
    assert 'id="line-refusal"' in page and "401" in page and "Authentication failed" in page
    text = client.post("/settings/channels/test-line",
                       data={"line-link_id": str(link.id)}).get_data(as_text=True)  # fmt: skip
    assert "存取權杖" in text and "（代碼 401）" in text and "重新發行" in text
    shop.line_access_token = "line-token"
    db.session.commit()
    # An ID LINE does not know (linked through another channel): its 400, in words.
    odd = _link("陳先生", user_id="U-from-another-channel")
    text = html.unescape(client.post("/settings/channels/test-line",
                                     data={"line-link_id": str(odd.id)}).get_data(as_text=True))  # fmt: skip
    assert "The property, 'to', in the request body is invalid" in text
    assert "LINE 不認得這位收件人" in text
    # Too many at once (LINE's 429): wait a little.
    fakes.state.rate_per_second = 1
    fakes.state._window = [time.time() + 3600]
    text = client.post("/settings/channels/test-line",
                       data={"line-link_id": str(link.id)}).get_data(as_text=True)  # fmt: skip
    assert "（代碼 429）" in text and "稍等一下" in text
    # The month's messages used up.
    fakes.state.rate_per_second, fakes.state.monthly_limit = None, 0
    text = client.post("/settings/channels/test-line",
                       data={"line-link_id": str(link.id)}).get_data(as_text=True)  # fmt: skip
    assert "本月的訊息則數已用完" in text
    assert fakes.state.line == []


def test_where_lines_console_keeps_things_and_the_https_warning(login_as, owner, fakes):
    shop = _shop(base="http://192.168.1.20:8000")
    client = _zh(login_as(owner))
    page = client.get("/settings/channels").get_data(as_text=True)
    assert "Basic settings" in page and "Channel secret" in page
    assert "Messaging API" in page and "Channel access token (long-lived)" in page
    assert "Issue" in page and "Webhook URL" in page
    assert 'id="line-https-warning"' in page and "https://" in page
    assert "http://192.168.1.20:8000/hooks/line" in page
    shop.public_base_url = "https://crm.example.com"
    db.session.commit()
    page = client.get("/settings/channels").get_data(as_text=True)
    assert 'id="line-https-warning"' not in page
    assert "https://crm.example.com/hooks/line" in page


def test_the_htmx_test_sms_answers_with_its_own_section(login_as, owner, fakes):
    _shop()
    client = login_as(owner)
    response = client.post(
        "/settings/channels/test-sms", data={"sms-test_number": "0912345678"},
        headers={"HX-Request": "true", "HX-Target": "sms-test"},
    )  # fmt: skip
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.lstrip().startswith(
        '<section class="card" id="sms-test"'
    )
    assert "<html" not in text and "The gateway took the test SMS." in text


def test_tests_without_setup_say_so(login_as, owner, fakes):
    shop = ensure_shop(db.session)
    shop.public_base_url = "https://crm.example.com"
    db.session.commit()
    client = login_as(owner)
    response = client.post("/settings/channels/test-sms", data={"sms-test_number": "0912345678"})
    assert response.status_code == 422 and "Set up SMS above and save first." in response.text
    response = client.post("/settings/channels/test-line", data={"line-link_id": "1"})
    assert response.status_code == 422 and "Set up LINE above and save first." in response.text
