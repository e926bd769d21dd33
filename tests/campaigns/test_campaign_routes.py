"""Campaign pages: compose with merge fields and clear template errors, preview each
recipient, test send to yourself, send; mailing labels."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Delivery, TimelineEntry
from app.services.customers import add_family_member
from app.services.shop import ensure_shop
from tests.conftest import login, mail_config
from tests.factories import make_customer, make_tag, make_user, tag_customer


@pytest.fixture
def mail_app(tmp_path, migrated_db, smtp_server):
    """Pages enqueue jobs; the test runs them as the worker would (run_jobs)."""
    from tests.conftest import build_app

    app = build_app(tmp_path, migrated_db, **mail_config(smtp_server), HUEY_IMMEDIATE=False)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def run_jobs():
    """Does what the worker process does with the queued jobs, here in the test."""
    from app.extensions import huey

    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    db.session.rollback()


def _family(name, nickname, email=None, address=None):
    child = make_customer(name, nickname=nickname, postal_address=address)
    if email:
        add_family_member(
            db.session, child, {"name": f"{nickname}媽媽", "email": email, "is_guardian": True}
        )
        db.session.commit()
    return child


@pytest.fixture
def desk(mail_app):
    shop = ensure_shop(db.session)
    shop.kind, shop.default_locale, shop.mail_rate_per_minute = "afterschool", "zh_Hant", 100000
    db.session.commit()
    make_user("owner")
    user = make_user("frontdesk", email="desk@example.com")
    client = mail_app.test_client()
    login(client, user)
    tag = make_tag("三年級")
    for child in (
        _family("林東城", "東城", "a@example.com", "台北市信義路 1 號"),
        _family("王小明", "小明", "b@example.com"),
        _family("陳怡君", "怡君"),
    ):
        tag_customer(child, tag)
    return client


def test_compose_preview_test_send_and_send(desk, smtp_server):
    page = desk.get("/campaigns/new?q=tag:三年級").get_data(as_text=True)
    assert (
        "2 people will get this email." in page and "Guardian without an email address" not in page
    )
    assert "No email address: 1" in page
    bad = desk.post(
        "/campaigns/new",
        data={"audience": "tag:三年級", "subject": "Hi", "body": "{{ greeting }}\n{{ nick }}"},
    )
    assert (
        bad.status_code == 422
        and "Line 2: There is no merge field called “nick”." in bad.get_data(as_text=True)
    )
    made = desk.post(
        "/campaigns/new",
        data={
            "audience": "tag:三年級",
            "subject": "{{ greeting }}",
            "body": "{{ greeting }}，期末見！",
        },
    )
    campaign_id = int(made.headers["Location"].rsplit("/", 1)[1])
    first = desk.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    second = desk.get(f"/campaigns/{campaign_id}?preview=1").get_data(as_text=True)
    greetings = {re.search(r'mail-subject">([^<]+)<', page).group(1) for page in (first, second)}
    assert greetings == {"東城家長您好", "小明家長您好"}
    desk.post(f"/campaigns/{campaign_id}/test", data={"preview": "0"})
    run_jobs()
    assert [to for _t, to, _c in smtp_server.messages] == [["desk@example.com"]]
    assert smtp_server.parsed()[0]["Subject"].startswith("[TEST]")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0
    desk.post(f"/campaigns/{campaign_id}/send")
    run_jobs()
    assert db.session.get(Campaign, campaign_id).status == "done"
    assert sorted(to[0] for _t, to, _c in smtp_server.messages[1:]) == [
        "a@example.com",
        "b@example.com",
    ]
    results = desk.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert (
        "100%" in results
        and 'data-count="sent">2<' in results
        and 'data-count="skipped">1<' in results
    )
    assert db.session.scalar(sa.select(sa.func.count()).where(TimelineEntry.kind == "email")) == 2
    again = desk.post(f"/campaigns/{campaign_id}/send")
    run_jobs()
    assert again.status_code == 302 and len(smtp_server.messages) == 3  # never twice


def test_progress_polling_stops_when_done(desk):
    campaign = Campaign(subject="x", body="{{ greeting }}", audience="tag:三年級", status="sending")
    db.session.add(campaign)
    db.session.commit()
    assert desk.get(f"/campaigns/{campaign.id}/progress").status_code == 200
    campaign.status = "done"
    db.session.commit()
    response = desk.get(f"/campaigns/{campaign.id}/progress")
    assert response.status_code == 286 and "hx-trigger" not in response.get_data(as_text=True)


def test_email_these_people_button_on_the_list(desk):
    page = desk.get("/customers/?q=tag:三年級").get_data(as_text=True)
    assert "/campaigns/new?q=tag:" in page and "Email these 3 people" in page


def test_labels_use_guardians_and_list_missing_addresses(desk):
    page = desk.get("/labels?q=tag:三年級&sheet=a4-2x7").get_data(as_text=True)
    assert "東城媽媽 收" in page and "(林東城)" in page and "台北市信義路 1 號" in page
    assert "2 people have no postal address" in page and "王小明" in page and "陳怡君" in page
    assert "sheet-a4-2x7" in page


def test_bad_audience_gets_a_message_not_an_error(desk):
    response = desk.get("/campaigns/new?q=(tag:三年級", follow_redirects=True)
    assert response.status_code == 200 and "never closed" in response.get_data(as_text=True)


def test_compose_and_campaign_pages_read_like_a_letter(client, owner):
    """A Chinese default greeting without an English comma, the heading without template
    code, and a warning before anyone presses Send when no mail server answers."""
    customer = make_customer("林小明", nickname="小明", email="ming@example.com")
    customer.consents = {"marketing", "service"}
    db.session.commit()
    login(client, owner)
    zh = {"Accept-Language": "zh-TW"}
    compose = client.get("/campaigns/new?q=has:email", headers=zh).get_data(as_text=True)
    assert "{{ greeting }}：" in compose and "{{ greeting }}," not in compose
    # TestConfig points at localhost:25, where nothing listens.
    assert "沒有郵件伺服器回應" in compose
    campaign = Campaign(
        subject="{{ nickname }}的期末成果", body="{{ greeting }}：\n好消息", audience="has:email"
    )
    db.session.add(campaign)
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "<h1>«nickname»的期末成果</h1>" in page
    assert "{{ nickname }}" not in page.split("<main")[1].split("mail-subject")[0]
    assert "No mail server answers at localhost:25" in page
    review = client.get(f"/campaigns/{campaign.id}/review").get_data(as_text=True)
    assert "1 person by email" in review
    assert "林小明 &lt;ming@example.com&gt;" in review
    assert review.split('class="mail-body"')[1].count("/u/") == 1  # one unsubscribe link


def test_progress_counts_only_mails_to_send(client, owner):
    campaign = Campaign(subject="Hi", body="x", audience="has:email", status="sending")
    db.session.add(campaign)
    db.session.flush()
    people = [make_customer(f"客{n}") for n in range(4)]
    for person, status in zip(people, ("queued", "skipped", "skipped", "skipped"), strict=True):
        db.session.add(Delivery(campaign_id=campaign.id, customer_id=person.id, status=status))
    db.session.commit()
    login(client, owner)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'value="0"' in page and "0 of 1 mails handed to the mail server." in page
    db.session.execute(sa.update(Delivery).where(Delivery.status == "queued").values(status="sent"))
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.id}/progress").get_data(as_text=True)
    assert 'value="100"' in page and "1 of 1 mails handed" in page
