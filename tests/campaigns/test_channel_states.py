"""One channel down never stops the others (issue 27.1): a real SMTP sink that is not running
and then is, the local SMS and LINE servers (tests/fakes.py), and the pages in zh-TW: each
channel pauses, fails and resumes on its own, with its reason in the reader's language."""

import socket

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Customer, Delivery
from app.services import campaigns as service
from app.services import segments as seg
from app.services.campaigns import outbox
from app.services.shop import ensure_shop
from app.tasks import channel_routes, send_settings
from tests.conftest import SinkHandler, build_app, login, mail_config, release
from tests.factories import make_tag, make_user
from tests.fakes import FakeProviders

ZH = {"Accept-Language": "zh-TW"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    """An aiosmtpd sink on a fixed port that can be stopped and started again."""

    def __init__(self):
        self.port = _free_port()
        self.handler = SinkHandler()
        self.handler.port = self.port
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def addresses(self) -> list[str]:
        return [to[0] for _t, to, _c in self.handler.messages]


@pytest.fixture
def mail_server():
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def fakes():
    providers = FakeProviders()
    yield providers
    providers.stop()


@pytest.fixture
def shop_app(tmp_path, migrated_db, mail_server, fakes):
    config = {
        **mail_config(mail_server.handler),
        "HUEY_IMMEDIATE": False,
        "MITAKE_API_BASE": fakes.base_url,
        "LINE_API_BASE": fakes.base_url,
        "CHANNEL_TIMEOUT": 5,
        "MAIL_TIMEOUT": 5,
        "SMS_RATE_PER_SECOND": 100_000,
    }
    app = build_app(tmp_path, migrated_db, **config)
    with app.app_context():
        shop = ensure_shop(db.session)
        shop.kind, shop.default_locale, shop.name = "homestay", "zh_Hant", "山嵐民宿"
        shop.sender_address, shop.mail_rate_per_minute = "hello@inn.example", 100_000
        shop.mail_max_consecutive_failures = 100
        shop.public_base_url = "https://crm.example.com"
        shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
        db.session.commit()
        yield app
    release(app)


def _guests(emails: int, texts: int, tag_name: str = "常客") -> None:
    """`emails` guests who prefer email, `texts` who prefer SMS (one transaction)."""
    tag = make_tag(tag_name)
    guests = [
        Customer(display_name=f"客人{n}", nickname=f"阿{n}", member_number=f"M{n + 1:06d}",
                 level="B", consents={"marketing", "service"}, version=1, tags=[tag],
                 email=f"guest{n}@example.com", phone=f"0912{n:06d}",
                 preferred_channel="email" if n < emails else "sms")
        for n in range(emails + texts)
    ]  # fmt: skip
    db.session.add_all(guests)
    db.session.commit()


def _campaign(expression: str = "tag:常客") -> Campaign:
    from app.clock import utcnow

    campaign = Campaign(subject="{{ nickname }}，春天的房價", body="{{ greeting }}\n\n春天來了。",
                        short_text="{{ greeting }}：春天來了", audience=expression,
                        status="draft", channels=["email", "sms"], use_preferred=True)  # fmt: skip
    db.session.add(campaign)
    db.session.commit()
    query = seg.customers_query(db.session, expression, seg.Context(now=utcnow()))
    audience = service.audience_for(db.session, query, ensure_shop(db.session),
                                    campaign.channel_list, True)  # fmt: skip
    service.queue(db.session, campaign, audience)
    db.session.commit()
    return campaign


def _send(app, campaign_id: int):
    settings = send_settings(app)
    report = service.send_campaign(
        db.session, campaign_id, settings, outbox.SmtpTarget.from_config(app.config),
        app.secret_key, connections=2, routes=channel_routes(app, settings.base_url),
    )  # fmt: skip
    db.session.expire_all()
    return report


def _state(campaign_id: int, channel: str) -> service.ChannelState:
    campaign = db.session.get(Campaign, campaign_id)
    return {s.channel: s for s in service.channel_states(db.session, campaign)}[channel]


def _client(app):
    client = app.test_client()
    make_user("owner", email="boss@example.com", name="Boss")
    login(client, make_user("frontdesk", email="desk@example.com", name="Desk"))
    return client


def test_no_mail_server_pauses_email_alone_and_resume_sends_each_once(shop_app, mail_server, fakes):
    _guests(17, 69)
    campaign = _campaign()
    report = _send(shop_app, campaign.id)
    # Every SMS went; email paused on its own, nothing of it failed or was lost.
    assert len(fakes.state.sms) == 69 and report.by_channel == {"sms": 69}
    email = _state(campaign.id, "email")
    assert (email.state, email.reason_code, email.reason_details["problem"]) == (
        "paused", "server-down", "refused",
    )  # fmt: skip
    assert email.counts == {"sent": 0, "failed": 0, "waiting": 0, "paused": 17,
                            "uncertain": 0, "skipped": 0}  # fmt: skip
    assert _state(campaign.id, "sms").state == "done"
    paused = db.session.get(Campaign, campaign.id)
    assert (paused.status, paused.pause_code) == ("paused", "channels")

    # The campaign's page in Chinese says why, in Chinese, and offers Resume for email.
    client = _client(shop_app)
    page = client.get(f"/campaigns/{campaign.id}", headers=ZH).get_data(as_text=True)
    assert f"郵件伺服器 127.0.0.1:{mail_server.port} 沒有回應（連線被拒）" in page
    assert "Errno" not in page and "Connection refused" not in page
    assert "繼續發送電子郵件" in page
    assert ">暫停</button>" not in page  # a paused campaign never offers Pause
    assert 'data-channel="sms" data-state="done"' in page

    # Resume while the server is still down says so; nothing changes.
    response = client.post(f"/campaigns/{campaign.id}/channels/email/resume", headers=ZH)
    assert response.status_code == 302
    page = client.get(f"/campaigns/{campaign.id}", headers=ZH).get_data(as_text=True)
    assert "電子郵件 仍暫停中：郵件伺服器" in page
    assert _state(campaign.id, "email").state == "paused"

    # The mail server is back: Resume, and the worker sends each mail exactly once.
    mail_server.start()
    response = client.post(f"/campaigns/{campaign.id}/channels/email/resume", headers=ZH)
    assert response.status_code == 302
    assert db.session.get(Campaign, campaign.id).status == "queued"
    _send(shop_app, campaign.id)
    _send(shop_app, campaign.id)  # a second run (a repeated job) sends nothing more
    assert sorted(mail_server.addresses) == sorted(f"guest{n}@example.com" for n in range(17))
    assert len(fakes.state.sms) == 69
    done = db.session.get(Campaign, campaign.id)
    assert done.status == "done" and service.counts(db.session, campaign.id)["sent"] == 86


def test_failed_mail_is_retried_once_when_the_server_takes_it(shop_app, mail_server, fakes):
    mail_server.start()
    mail_server.handler.refuse_all = "451 4.3.0 Try again later"
    _guests(3, 2)
    campaign = _campaign()
    _send(shop_app, campaign.id)
    email = _state(campaign.id, "email")
    assert (email.state, email.retryable, email.counts["failed"]) == ("failed", 3, 3)
    assert db.session.get(Campaign, campaign.id).status == "paused"  # not "done"
    assert len(fakes.state.sms) == 2
    client = _client(shop_app)
    page = client.get(f"/campaigns/{campaign.id}", headers=ZH).get_data(as_text=True)
    assert "重送失敗的 3 則（電子郵件）" in page
    assert "伺服器要求稍後再試：451 4.3.0 Try again later" in page
    english = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Retry the 3 failed (Email)" in english

    mail_server.handler.refuse_all = None
    first = client.post(f"/campaigns/{campaign.id}/channels/email/retry")
    second = client.post(f"/campaigns/{campaign.id}/channels/email/retry")  # a second click
    assert first.status_code == second.status_code == 302
    flashed = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Nothing to send again" in flashed
    _send(shop_app, campaign.id)
    _send(shop_app, campaign.id)
    assert sorted(mail_server.addresses) == [f"guest{n}@example.com" for n in range(3)]
    assert db.session.get(Campaign, campaign.id).status == "done"
    assert client.post(f"/campaigns/{campaign.id}/channels/email/retry").status_code == 302
    _send(shop_app, campaign.id)
    assert len(mail_server.addresses) == 3  # still once each
    assert db.session.scalar(
        sa.select(sa.func.count()).where(Delivery.status == "sent")
    ) == 5  # fmt: skip


def test_sms_not_set_up_pauses_sms_alone(shop_app, mail_server, fakes):
    mail_server.start()
    shop = ensure_shop(db.session)
    shop.sms_provider = None
    db.session.commit()
    _guests(2, 3)
    campaign = _campaign()
    _send(shop_app, campaign.id)
    assert len(mail_server.addresses) == 2
    sms = _state(campaign.id, "sms")
    assert (sms.state, sms.reason_code, sms.counts["paused"]) == ("paused", "not-set-up", 3)
    client = _client(shop_app)
    page = client.get(f"/campaigns/{campaign.id}", headers=ZH).get_data(as_text=True)
    assert "簡訊 還沒有設定。" in page
    # Resume says it is still not set up instead of pausing again with no word.
    client.post(f"/campaigns/{campaign.id}/channels/sms/resume", headers=ZH)
    page = client.get(f"/campaigns/{campaign.id}", headers=ZH).get_data(as_text=True)
    assert "簡訊 仍暫停中：簡訊 還沒有設定。" in page


def test_review_asks_before_sending_when_a_channel_in_use_is_down(shop_app, mail_server, fakes):
    # No mail server: the 17 by email would only wait; SMS can go.
    _guests(17, 5)
    campaign = Campaign(subject="春天", body="{{ greeting }}", short_text="春天來了",
                        audience="tag:常客", status="draft", channels=["email", "sms"],
                        use_preferred=True)  # fmt: skip
    db.session.add(campaign)
    db.session.commit()
    client = _client(shop_app)
    review = client.get(f"/campaigns/{campaign.id}/review", headers=ZH).get_data(as_text=True)
    assert 'id="channels-down"' in review
    assert "電子郵件 現在無法發送：郵件伺服器 127.0.0.1" in review
    assert "有 17 人會從這個管道收到" in review
    assert 'name="send_anyway"' in review
    refused = client.post(f"/campaigns/{campaign.id}/send", headers=ZH)
    assert refused.status_code == 422 and "請勾選「仍要發送」" in refused.get_data(as_text=True)
    assert db.session.get(Campaign, campaign.id).status == "draft"
    sent = client.post(f"/campaigns/{campaign.id}/send", data={"send_anyway": "1"})
    assert sent.status_code == 302
    assert db.session.get(Campaign, campaign.id).status == "queued"
    # With the mail server up nothing is asked.
    mail_server.start()
    from app.services.campaigns.outbox.smtp import forget_server_checks

    forget_server_checks()
    other = Campaign(subject="夏天", body="{{ greeting }}", short_text="夏天來了",
                     audience="tag:常客", status="draft", channels=["email", "sms"],
                     use_preferred=True)  # fmt: skip
    db.session.add(other)
    db.session.commit()
    review = client.get(f"/campaigns/{other.id}/review").get_data(as_text=True)
    assert 'id="channels-down"' not in review
    assert client.post(f"/campaigns/{other.id}/send").status_code == 302


def test_paused_campaign_polling_offers_resume_never_pause(shop_app, mail_server, fakes):
    _guests(2, 0)
    campaign = _campaign()
    client = _client(shop_app)
    polled = client.get(f"/campaigns/{campaign.id}/progress").get_data(as_text=True)
    assert ">Pause</button>" in polled  # queued: it can be paused
    _send(shop_app, campaign.id)
    response = client.get(f"/campaigns/{campaign.id}/progress", headers=ZH)
    polled = response.get_data(as_text=True)
    assert response.status_code == 286  # polling stops
    assert ">暫停</button>" not in polled and "繼續發送電子郵件" in polled
    assert 'data-channel-count="paused">2<' in polled
