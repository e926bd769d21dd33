"""Compose says what it does (issue 27.9): SMS with an empty short text carries the message,
email's subject and letter are asked for only when email is used, a service message goes to
everyone whose records are kept and carries no unsubscribe link, and the menu says Messages."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Delivery
from app.services import campaigns as service
from app.services.shop import ensure_shop
from tests.factories import make_customer, make_tag, tag_customer

ZH = {"Accept-Language": "zh-TW"}


def _shop():
    shop = ensure_shop(db.session)
    shop.kind, shop.name, shop.default_locale = "afterschool", "小森林", "zh_Hant"
    shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
    db.session.commit()


def _class(tag_name="三年級"):
    tag = make_tag(tag_name)
    both = make_customer("林東城", nickname="東城", email="lin@example.com", phone="0912345001")
    records_only = make_customer("王小明", nickname="小明", email="wang@example.com",
                                 phone="0912345002", consent={"service"})  # fmt: skip
    for child in (both, records_only):
        tag_customer(child, tag)
    return both, records_only


def _compose(client, **fields):
    data = {"audience": "tag:三年級", "subject": "", "body": "", "short_text": "",
            "send_by": "email", "fallback": "line,sms,email", "purpose": "marketing", **fields}  # fmt: skip
    return client.post("/campaigns/new", data=data)


def test_sms_only_with_an_empty_short_text_carries_the_message(login_as, owner):
    _shop()
    _class()
    client = login_as(owner)
    response = _compose(client, send_by="sms", body="{{ greeting }}：明天停課一天")
    assert response.status_code == 302  # no subject needed, no short text needed
    campaign = db.session.scalar(sa.select(Campaign))
    assert campaign.short_text is None and campaign.channels == ["sms"]
    assert campaign.subject == "{{ greeting }}：明天停課一天"  # names it on the pages
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "東城家長您好：明天停課一天" in page  # the SMS preview is the message
    review = client.get(f"/campaigns/{campaign.id}/review").get_data(as_text=True)
    assert "The first SMS, exactly as it will go" in review


def test_without_email_subject_and_letter_are_not_asked_for(login_as, owner):
    _shop()
    _class()
    client = login_as(owner)
    response = _compose(client, send_by="sms", short_text="明天停課")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Campaign.subject)) == "明天停課"
    # Nothing at all to send by SMS: asked, in words.
    nothing = _compose(client, send_by="sms")
    assert nothing.status_code == 422
    assert "Write the short message that SMS and LINE will carry." in nothing.text
    zh = client.post("/campaigns/new", headers=ZH, data={
        "audience": "tag:三年級", "send_by": "line", "fallback": "line,sms,email"})  # fmt: skip
    assert zh.status_code == 422 and "簡訊" in zh.get_data(as_text=True)
    # With email, both are needed, each said at its field.
    email = _compose(client, send_by="email", short_text="明天停課")
    assert email.status_code == 422
    assert "Write a subject." in email.text and "Write the message." in email.text
    preferred = _compose(client, send_by="preferred", fallback="sms,email,line", body="明天停課")
    assert preferred.status_code == 422 and "Write a subject." in preferred.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 1


def test_a_service_message_reaches_everyone_kept_and_has_no_unsubscribe(login_as, owner):
    _shop()
    both, records_only = _class()
    client = login_as(owner)
    marketing = _compose(client, subject="寒假營隊招生", body="{{ greeting }}，寒假營隊開始報名")
    campaign = db.session.get(Campaign, int(marketing.headers["Location"].rsplit("/", 1)[1]))
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "No consent to marketing email: 1" in page
    service_reply = _compose(client, subject="班級同樂會通知", body="{{ greeting }}，週五同樂會",
                             purpose="service")  # fmt: skip
    notice = db.session.get(Campaign, int(service_reply.headers["Location"].rsplit("/", 1)[1]))
    assert notice.purpose == "service"
    page = client.get(f"/campaigns/{notice.id}").get_data(as_text=True)
    assert "2 people will get this email." in page and "No consent" not in page
    # Its mail has no unsubscribe footer; the marketing one has.
    assert "/u/" not in page.split('class="mail-body"')[1].split("</pre>")[0]
    review = client.get(f"/campaigns/{campaign.id}/review").get_data(as_text=True)
    assert review.split('class="mail-body"')[1].count("/u/") == 1
    # A person who unsubscribed from marketing mail still gets the class's notice.
    records_only.email_opt_out = True
    db.session.commit()
    assert client.post(f"/campaigns/{notice.id}/send").status_code == 302
    sent_to = set(db.session.scalars(sa.select(Delivery.address).where(
        Delivery.campaign_id == notice.id, Delivery.status.in_(("queued", "sent")))))  # fmt: skip
    assert sent_to == {"lin@example.com", "wang@example.com"}
    # People with no consent to keep their records get neither.
    assert service.consents_to(both, "service") and service.consents_to(records_only, "service")
    nobody = make_customer("陳無", email="chen@example.com", consent=set())
    assert not service.consents_to(nobody, "service")
    assert not service.consents_to(records_only, "marketing")


def test_the_menu_says_messages(login_as, owner):
    _shop()
    client = login_as(owner)
    english = client.get("/campaigns/").get_data(as_text=True)
    assert ">Messages</a>" in english and ">Campaigns</a>" not in english
    chinese = client.get("/campaigns/", headers=ZH).get_data(as_text=True)
    assert ">群發訊息</a>" in chinese and "群發郵件</a>" not in chinese
