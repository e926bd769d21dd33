"""Real Chromium + a real worker process + a real SMTP server: one click to a personal blast."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services.customers import add_family_member
from app.services.shop import ensure_shop
from tests.conftest import (
    LiveServer,
    Workers,
    browser_login,
    build_app,
    mail_config,
    write_worker_config,
)
from tests.factories import make_customer, make_tag, tag_customer


@pytest.fixture
def mail_live(tmp_path, migrated_db, smtp_server):
    config = {**mail_config(smtp_server), "HUEY_IMMEDIATE": False, "WTF_CSRF_ENABLED": True}
    app = build_app(tmp_path, migrated_db, **config)
    write_worker_config(Path(app.instance_path), {**config, "SECRET_KEY": app.secret_key})
    with app.app_context():
        from devtools.demo import seed_demo

        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=0)
        shop = ensure_shop(db.session)
        shop.mail_rate_per_minute = 100000
        tag = make_tag("三年級")
        for number, (name, nickname) in enumerate(
            (("林東城", "東城"), ("王小明", "小明"), ("陳怡君", "怡君"))
        ):
            child = make_customer(name, nickname=nickname)
            add_family_member(
                db.session,
                child,
                {
                    "name": f"{nickname}媽媽",
                    "email": f"parent{number}@example.com",
                    "is_guardian": True,
                },
            )
            db.session.commit()
            tag_customer(child, tag)
        db.session.remove()
    workers = Workers(Path(app.instance_path))
    workers.start()
    with LiveServer(app) as server:
        yield server
    workers.stop_all()


def test_filtered_list_to_personal_blast(page, mail_live, smtp_server):
    browser_login(page, mail_live, "desk@example.com")
    page.goto(f"{mail_live.url}/customers/?q=tag:三年級")
    page.get_by_role("link", name="Email these 3 people").click()
    expect(page.get_by_text("3 people will get this email.")).to_be_visible()
    # The merge-field buttons work once the page's script has run (a click before that,
    # on a busy machine, inserted nothing).
    page.wait_for_load_state("load")
    page.get_by_label("Subject").fill("期末成果發表會")
    body = page.get_by_label("Message")
    body.fill("")
    page.get_by_role("button", name="Greeting").click()
    expect(body).to_have_value(re.compile(r"\{\{ greeting \}\}"))
    body.press("End")
    body.type("，歡迎來看孩子的成果！")
    page.get_by_role("button", name="Save and preview").click()
    preview = page.locator(".mail-body")
    expect(preview).to_contain_text("家長您好，歡迎來看孩子的成果！")
    first = preview.inner_text()
    page.get_by_role("link", name="Next recipient").click()
    expect(preview).not_to_have_text(first)
    expect(preview).to_contain_text("家長您好")
    # "Test sent" tells what the mail server really answered.
    smtp_server.refuse_all = "550 Mailbox unavailable"
    page.get_by_role("button", name=re.compile("Send a test to me")).click()
    expect(page.locator("#messages")).to_contain_text(
        "The test mail was not sent: the mail server said “550 Mailbox unavailable”"
    )
    smtp_server.refuse_all = None
    page.get_by_role("button", name=re.compile("Send a test to me")).click()
    expect(page.locator("#messages")).to_contain_text("The mail server accepted a test mail")
    assert len(smtp_server.messages) == 1
    smtp_server.messages.clear()
    # A last review: how many, by which channel, the first mail as it goes out.
    page.get_by_role("link", name="Review and send to 3 people").click()
    expect(page.locator("#review-counts")).to_contain_text("3 people by email")
    expect(page.locator("#mail-server-down")).to_have_count(0)
    to = page.locator(".mail-to")
    expect(to).to_contain_text("媽媽 <parent")
    expect(to).not_to_contain_text("(")
    expect(page.locator(".mail-subject")).to_have_text("期末成果發表會")
    body_text = page.locator(".mail-body").inner_text()
    assert body_text.count("取消訂閱") == 1  # one unsubscribe footer, in Chinese
    page.get_by_role("button", name="Send now to 3 people").click()
    expect(page.locator("#progress-bar")).to_have_attribute("value", "100", timeout=30000)
    expect(page.locator("[data-count=sent]")).to_have_text("3")
    assert len(smtp_server.messages) == 3
    page.get_by_role("link", name="林東城").click()
    expect(page.locator("#feed")).to_contain_text("期末成果發表會")
    expect(page.locator("#feed .kind-email").first).to_be_visible()


def test_teacher_cannot_reach_campaigns(page, live_server, demo_staff):
    browser_login(page, live_server, "teacher@example.com")
    response = page.goto(f"{live_server.url}/campaigns/")
    assert response.status == 403
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")
    ).to_have_count(0)
