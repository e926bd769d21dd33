"""Real Chromium: the front desk links a parent's LINE to their child (the parent follows
the shop and sends the code, as LINE's webhook reports it), and the owner writes a notice
that goes by each family's preferred channel with the SMS length counted as they type."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.test_accessibility import audit_page
from tests.conftest import browser_login
from tests.fakes import FakeProviders, call_webhook, follow_event, line_user_id, text_event


@pytest.fixture
def browser_context_args(browser_context_args):
    # Only so axe can be injected; the CSP itself is tested in test_csp.py.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def fakes(live_app):
    providers = FakeProviders()
    for key in ("MITAKE_API_BASE", "EVERY8D_API_BASE", "LINE_API_BASE"):
        live_app.config[key] = providers.base_url
    yield providers
    providers.stop()


@pytest.fixture
def line_shop(live_app, demo_shop, fakes):
    from app.models import Customer
    from app.services.shop import ensure_shop

    with live_app.app_context():
        shop = ensure_shop(db.session)
        shop.line_channel_secret, shop.line_access_token = "line-secret", "line-token"
        shop.line_account_id = "@forest"
        shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
        db.session.commit()
        child = db.session.scalar(sa.select(Customer).order_by(Customer.id).limit(1))
        found = (child.id, child.nickname or child.display_name)
        db.session.remove()
    return found


def test_a_line_follow_links_a_parent_to_their_child(page, live_server, line_shop, fakes):
    child_id, child_name = line_shop
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/{child_id}")
    line_card = page.locator("#line-links")
    expect(line_card).to_contain_text("Not linked to LINE")
    line_card.get_by_role("button", name="Link a LINE account").click()
    code = page.locator("#line-code").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", code)
    expect(page.locator("figure.qr svg")).to_be_visible()
    assert audit_page(page) == []

    # The parent adds the shop as a friend and sends the code; LINE calls the webhook.
    parent = line_user_id(42)
    assert call_webhook(live_server.url, "line-secret", [follow_event(parent)]) == 200
    assert call_webhook(live_server.url, "line-secret", [text_event(parent, code)]) == 200
    # LINE replied twice: "send your code", then "linked" with the shop's name (never the
    # child's: whoever sent the code may not be family).
    assert len(fakes.state.replies) == 2
    assert "小森林" in fakes.state.replies[-1]["messages"][0]["text"]
    assert child_name not in fakes.state.replies[-1]["messages"][0]["text"]

    page.get_by_role("link", name=re.compile("Back to")).click()
    expect(line_card).to_contain_text("Linked")
    expect(line_card).to_contain_text("家長 " + parent[-4:])
    expect(page.locator("#feed")).to_contain_text("Linked to LINE")
    # A forged call (wrong signature) changes nothing.
    assert call_webhook(live_server.url, "guess", [text_event(line_user_id(9), code)]) == 400


def test_owner_writes_a_notice_by_preferred_channel(page, live_server, line_shop, fakes):
    browser_login(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/campaigns/new?q=has:email")
    page.get_by_label("Each person's preferred channel").check()
    page.get_by_label("When there is no preference, or it cannot be used, try").select_option(
        "line,sms,email"
    )
    page.get_by_label("Subject").fill("颱風停課通知")
    page.get_by_label("Message", exact=True).fill("{{ greeting }}\n\n明天颱風停課一天。")
    box = page.get_by_label("Text for SMS and LINE")
    box.fill("停" * 70)
    expect(page.locator(".sms-count")).to_contain_text("70 characters · 1 SMS part")
    box.fill("停" * 71)
    expect(page.locator(".sms-count")).to_contain_text("71 characters · 2 SMS part")
    box.fill("{{ greeting }}：明天颱風停課一天，請留意安全。")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.locator("#channel-counts")).to_be_visible()
    counts = page.locator("#channel-counts li")
    assert counts.count() >= 2  # email and SMS at least (the demo's preferred channels)
    page.get_by_role("link", name=re.compile("Review and send")).click()
    expect(page.locator("#review-counts")).to_contain_text("by SMS")
    expect(page.locator("#review-counts")).to_contain_text("NT$")


def test_owner_sends_a_test_sms_and_sees_the_gateways_answer(page, live_server, line_shop, fakes,
                                                              live_app):  # fmt: skip
    """Settings → SMS and LINE on a tablet, in zh-TW: the test SMS goes by htmx (no reload),
    the gateway's id comes back; a wrong password comes back as Mitake's reason in words."""
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/settings/channels")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("簡訊與 LINE")
    page.evaluate("window.notReloaded = true")
    section = page.locator("#sms-test")
    section.get_by_label("測試簡訊寄到（台灣手機號碼）").fill("0912 345 678")
    section.get_by_role("button", name="傳送測試簡訊").click()
    expect(page.locator("#sms-test-result")).to_contain_text("簡訊商已收下測試簡訊")
    expect(page.locator("#sms-test-result")).to_contain_text("M000000001")
    assert page.evaluate("window.notReloaded") is True
    assert fakes.state.sms[-1]["to"] == "0912345678"
    assert audit_page(page) == []
    # A wrong password (changed at Mitake): the reason in words, with Mitake's own code.
    fakes.state.sms_password = "changed-at-mitake"
    section.get_by_label("測試簡訊寄到（台灣手機號碼）").fill("0912345678")
    section.get_by_role("button", name="傳送測試簡訊").click()
    expect(page.locator("#sms-test-result")).to_contain_text("帳號或密碼錯誤")
    expect(page.locator("#sms-test-result")).to_contain_text("statuscode=e")
    assert page.evaluate("window.notReloaded") is True
    assert len(fakes.state.sms) == 1
    assert audit_page(page) == []
