"""Real Chromium in Chinese on a tablet, a real worker process, a real SMTP sink that is down
and then up, and the local SMS server: a campaign by each person's preferred channel sends
its SMS while email waits; the page says why in Chinese, offers 繼續 (never 暫停) once paused,
and Retry sends the failed mails once each when the server takes them (issue 27.1)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Campaign, Customer
from app.services.shop import ensure_shop
from tests.browser.test_accessibility import audit_page
from tests.campaigns.test_channel_states import MailServer
from tests.conftest import LiveServer, Workers, build_app, mail_config, write_worker_config
from tests.factories import make_tag
from tests.fakes import FakeProviders


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True, "locale": "zh-TW",
            "extra_http_headers": {"Accept-Language": "zh-TW"},
            "viewport": {"width": 768, "height": 1024}}  # fmt: skip


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
def inn(tmp_path, migrated_db, mail_server, fakes):
    config = {**mail_config(mail_server.handler), "HUEY_IMMEDIATE": False,
              "WTF_CSRF_ENABLED": True, "MITAKE_API_BASE": fakes.base_url,
              "CHANNEL_TIMEOUT": 5, "MAIL_TIMEOUT": 5}  # fmt: skip
    app = build_app(tmp_path, migrated_db, **config)
    write_worker_config(Path(app.instance_path), {**config, "SECRET_KEY": app.secret_key})
    with app.app_context():
        from devtools.demo import seed_demo

        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=0)
        shop = ensure_shop(db.session)
        shop.default_locale, shop.mail_rate_per_minute = "zh_Hant", 100_000
        shop.mail_max_consecutive_failures = 100
        shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
        tag = make_tag("常客")
        db.session.add_all(
            Customer(display_name=f"客人{n}", nickname=f"阿{n}", member_number=f"G{n:05d}",
                     level="B", consents={"marketing", "service"}, version=1, tags=[tag],
                     email=f"guest{n}@example.com", phone=f"0912{n:06d}",
                     preferred_channel="email" if n < 3 else "sms")
            for n in range(7)
        )  # fmt: skip
        campaign = Campaign(subject="春天的房價", body="{{ greeting }}\n\n春天來了。",
                            short_text="{{ greeting }}：春天來了", audience="tag:常客",
                            status="draft", channels=["email", "sms"], use_preferred=True)  # fmt: skip
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
        db.session.remove()
    workers = Workers(Path(app.instance_path))
    workers.start()
    with LiveServer(app) as server:
        server.campaign_id = campaign_id
        yield server
    workers.stop_all()


def _login(page, server):
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", "desk@example.com")
    page.fill("input[name=password]", "hearth-demo-1")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{server.url}/")


def test_one_channel_down_never_stops_the_others(page, inn, mail_server, fakes):
    _login(page, inn)
    page.goto(f"{inn.url}/campaigns/{inn.campaign_id}/review")
    # The review warns that the mail server is down and asks before sending.
    warning = page.locator("#channels-down")
    expect(warning).to_contain_text("電子郵件 現在無法發送")
    expect(warning).to_contain_text("有 3 人會從這個管道收到")
    assert audit_page(page) == []
    page.get_by_role("button", name=re.compile("現在寄給")).click()
    expect(page.locator("#send-anyway-error")).to_be_visible()
    page.get_by_label(re.compile("仍要發送")).check()
    page.get_by_role("button", name=re.compile("現在寄給")).click()

    # SMS all go; email pauses on its own, its reason in Chinese; 繼續, never 暫停.
    sms = page.locator("tr[data-channel=sms]")
    email = page.locator("tr[data-channel=email]")
    expect(sms).to_have_attribute("data-state", "done", timeout=60_000)
    expect(sms.locator("[data-channel-count=sent]")).to_have_text("4")
    expect(email).to_have_attribute("data-state", "paused", timeout=60_000)
    expect(email).to_contain_text(f"郵件伺服器 127.0.0.1:{mail_server.port} 沒有回應（連線被拒）")
    expect(email.locator("[data-channel-count=paused]")).to_have_text("3")
    resume = page.get_by_role("button", name="繼續發送電子郵件")
    expect(resume).to_be_visible()
    expect(page.get_by_role("button", name="暫停", exact=True)).to_have_count(0)
    expect(page.locator("#progress")).not_to_contain_text("Errno")
    assert len(fakes.state.sms) == 4
    assert audit_page(page) == []

    # Resume while it is still down: told so, nothing sent, still paused.
    resume.click()
    expect(page.locator("#messages")).to_contain_text("電子郵件 仍暫停中")
    expect(email).to_have_attribute("data-state", "paused")

    # The server is back but busy (451): the mails fail, and can be retried.
    mail_server.start()
    mail_server.handler.refuse_all = "451 4.3.0 Try again later"
    page.get_by_role("button", name="繼續發送電子郵件").click()
    expect(page.locator("#messages")).to_contain_text("電子郵件 已繼續發送")
    retry = page.get_by_role("button", name="重送失敗的 3 則（電子郵件）")
    expect(retry).to_be_visible(timeout=60_000)
    expect(email).to_contain_text("伺服器要求稍後再試")
    expect(page.locator("[data-count=failed]")).to_have_text("3")

    # It takes mail again: Retry sends each failed one, once.
    mail_server.handler.refuse_all = None
    retry.click()
    expect(page.locator("#progress-bar")).to_have_attribute("value", "100", timeout=60_000)
    expect(email).to_have_attribute("data-state", "done", timeout=60_000)
    expect(email.locator("[data-channel-count=sent]")).to_have_text("3")
    expect(page.locator("#campaign-status")).to_contain_text("已完成")
    assert sorted(mail_server.addresses) == [f"guest{n}@example.com" for n in range(3)]
    assert len(fakes.state.sms) == 4
