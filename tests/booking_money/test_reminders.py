"""The late deposit's reminder, end to end: sent by the guest's own channel through the outbox
to a real SMTP sink and the local SMS provider, with the amount, due date and the shop's
account, exactly once however many times (and from however many browsers) it is clicked."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Delivery, StayMoney, TimelineEntry
from app.services import booking_money as money
from app.services import stays
from app.services.shop import ensure_shop, shop_context
from tests.conftest import build_app, login, mail_config, release
from tests.factories import PASSWORD, make_customer, make_user
from tests.fakes import FakeProviders


@pytest.fixture
def fakes():
    providers = FakeProviders()
    yield providers
    providers.stop()


@pytest.fixture
def remind_app(tmp_path, migrated_db, smtp_server, fakes):
    """Pages enqueue the outbox's job; the test runs it as the worker would (run_jobs)."""
    app = build_app(tmp_path, migrated_db, **mail_config(smtp_server), HUEY_IMMEDIATE=False,
                    MITAKE_API_BASE=fakes.base_url, CHANNEL_TIMEOUT=5)  # fmt: skip
    with app.app_context():
        yield app
    release(app)


def run_jobs():
    from app.extensions import huey

    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    db.session.rollback()


@pytest.fixture
def shop(remind_app):
    shop = ensure_shop(db.session)
    shop.kind, shop.default_locale, shop.name = "homestay", "zh_Hant", "海風民宿"
    shop.sender_address, shop.mail_rate_per_minute = "stay@seawind.example", 100000
    shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
    db.session.commit()
    money.save_terms(db.session, {"deposit_percent": 30, "deposit_due_days": 3,
                                  "bank_name": "台灣銀行 004", "bank_account": "012345678901",
                                  "account_name": "海風民宿"})  # fmt: skip
    room = stays.save_room(db.session, None, "海景房")
    db.session.commit()
    make_user("owner")
    return room


def _late_booking(room, name, **fields):
    today = shop_context(db.session).today
    customer = make_customer(name, **fields)
    stay = stays.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": today + timedelta(14), "check_out": today + timedelta(16),
         "status": "booked", "adults": 2, "amount": 6000},
        actor=None, today=today - timedelta(5),
    )  # fmt: skip
    db.session.commit()
    return stay


def _desk(app):
    client = app.test_client()
    login(client, make_user("frontdesk"))
    return client


def test_the_reminder_goes_by_email_once_however_often_it_is_clicked(remind_app, shop,
                                                                      smtp_server):  # fmt: skip
    stay = _late_booking(shop, "陳美玲", email="mei@example.com", preferred_channel="email")
    due_on = db.session.get(StayMoney, stay.id).deposit_due_on
    desk = _desk(remind_app)
    first = desk.post(f"/stays/{stay.id}/remind", follow_redirects=True)
    assert "Reminder sent to 陳美玲 by email." in first.get_data(as_text=True)
    second = desk.post(f"/stays/{stay.id}/remind", follow_redirects=True)
    assert "already sent" in second.get_data(as_text=True)
    run_jobs()
    run_jobs()
    mails = smtp_server.parsed()
    assert len(mails) == 1 and mails[0]["To"].addresses[0].addr_spec == "mei@example.com"
    text = mails[0].get_body(("plain",)).get_content()
    assert "NT$1,800" in text and due_on.isoformat() in text
    assert "012345678901" in text and "台灣銀行 004" in text and "海風民宿" in text
    assert "訂金" in str(mails[0]["Subject"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 1
    assert db.session.scalar(sa.select(Delivery.status)) == "sent"
    # On My day it now says so instead of offering the button again.
    page = desk.get("/").get_data(as_text=True)
    assert "Reminded" in page and f"/stays/{stay.id}/remind" not in page
    # A service message of the booking's own: no unsubscribe link or list headers, not on
    # the owner's list of campaigns, its state shown with the stay.
    assert "/u/" not in text and mails[0]["List-Unsubscribe"] is None
    assert mails[0]["List-Id"] is None
    campaign = db.session.scalar(sa.select(Campaign))
    assert (campaign.kind, campaign.purpose) == ("booking", "service")
    owner = remind_app.test_client()
    login(owner, make_user("owner"))
    listed = owner.get("/campaigns/")
    assert listed.status_code == 200 and campaign.subject not in listed.get_data(as_text=True)
    money_page = desk.get(f"/stays/{stay.id}/money").get_data(as_text=True)
    assert "Deposit reminder by Email:" in money_page and "<strong>Sent</strong>" in money_page
    lines = db.session.scalars(sa.select(TimelineEntry.body).where(
        TimelineEntry.customer_id == stay.customer_id)).all()  # fmt: skip
    assert any("email" in line or "電子郵件" in line for line in lines)


class Browser:
    """A signed-in browser on the real HTTP server: its own cookies, its own connection."""

    def __init__(self, url, user):
        import http.cookiejar
        import urllib.request

        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.post("/login", {"email": user.email, "password": PASSWORD})

    def post(self, path, data=None) -> int:
        import urllib.error
        import urllib.parse

        body = urllib.parse.urlencode(data or {}).encode()
        try:
            with self.opener.open(self.url + path, data=body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


class _NoRedirect(__import__("urllib.request").request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_two_browsers_clicking_at_once_send_one_reminder(remind_app, shop, smtp_server):
    from tests.conftest import LiveServer

    stay = _late_booking(shop, "林志明", email="lin@example.com")
    users = [make_user("frontdesk"), make_user("owner")]
    path, statuses = f"/stays/{stay.id}/remind", []
    with LiveServer(remind_app) as server:
        browsers = [Browser(server.url, user) for user in users]
        start = threading.Barrier(2)

        def click(browser):
            start.wait()
            statuses.append(browser.post(path))

        threads = [threading.Thread(target=click, args=(browser,)) for browser in browsers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert statuses == [302, 302]
    db.session.rollback()
    run_jobs()
    assert len(smtp_server.messages) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1


def test_a_guest_who_prefers_sms_gets_a_text(remind_app, shop, fakes, smtp_server):
    stay = _late_booking(shop, "張雅婷", email="ya@example.com", phone="0912-345-678",
                         preferred_channel="sms")  # fmt: skip
    response = _desk(remind_app).post(f"/stays/{stay.id}/remind", follow_redirects=True)
    assert "by SMS" in response.get_data(as_text=True)
    run_jobs()
    assert smtp_server.messages == []
    assert len(fakes.state.sms) == 1 and fakes.state.sms[0]["to"] == "0912345678"
    assert "1,800" in fakes.state.sms[0]["text"] and "012345678901" in fakes.state.sms[0]["text"]


def test_a_guest_who_declined_newsletters_still_gets_the_reminder(remind_app, shop,
                                                                  smtp_server):  # fmt: skip
    stay = _late_booking(shop, "林書豪", email="lin@example.com", preferred_channel="email",
                         consent={"service"})  # fmt: skip
    stay.customer.email_opt_out = True  # unsubscribed from marketing mail
    db.session.commit()
    _desk(remind_app).post(f"/stays/{stay.id}/remind")
    run_jobs()
    assert [to for _t, to, _c in smtp_server.messages] == [["lin@example.com"]]
    assert db.session.scalar(sa.select(Delivery.status)) == "sent"


def test_no_way_to_reach_them_and_deposits_not_late_send_nothing(remind_app, shop, smtp_server):
    unreachable = _late_booking(shop, "無聯絡")
    response = _desk(remind_app).post(f"/stays/{unreachable.id}/remind", follow_redirects=True)
    assert "no email, mobile or LINE" in response.get_data(as_text=True)
    today = shop_context(db.session).today
    fresh = stays.save_stay(
        db.session, make_customer("剛訂", email="new@example.com"), None,
        {"room_id": shop.id, "check_in": today + timedelta(30), "check_out": today + timedelta(31),
         "status": "booked", "adults": 2, "amount": 3000}, actor=None, today=today,
    )  # fmt: skip
    db.session.commit()
    response = _desk(remind_app).post(f"/stays/{fresh.id}/remind", follow_redirects=True)
    assert "not late" in response.get_data(as_text=True)
    run_jobs()
    assert smtp_server.messages == [] and db.session.scalar(
        sa.select(sa.func.count()).select_from(Campaign)) == 0  # fmt: skip
