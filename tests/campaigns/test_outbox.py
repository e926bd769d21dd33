"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1): merge fields, skip rules,
headers, failures, retries, rate limits, unsubscribes, and real worker processes killed
at random moments."""

import random
import re
import signal
import time
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, CustomField, Delivery, TimelineEntry
from app.services import campaigns as service
from app.services import segments as seg
from app.services.campaigns import outbox
from app.services.customers import add_family_member, set_custom_values
from app.services.shop import ensure_shop
from app.tasks import send_settings
from tests.factories import make_customer, make_tag, tag_customer


def _shop(kind="afterschool", locale="zh_Hant", rate=100000, failures=3):
    shop = ensure_shop(db.session)
    shop.kind, shop.default_locale, shop.name = kind, locale, "小森林"
    shop.sender_address, shop.mail_rate_per_minute, shop.mail_max_consecutive_failures = (
        "hello@forest.example",
        rate,
        failures,
    )
    shop.public_base_url = "https://crm.example.com"
    db.session.commit()
    return shop


def _campaign(
    expression="tag:班",
    subject="{{ greeting }}：期末通知",
    body="{{ greeting }}\n\n{{ custom.teachers_words }}\n\n{{ unsubscribe_url }}",
):
    campaign = Campaign(subject=subject, body=body, audience=expression, status="draft")
    db.session.add(campaign)
    db.session.commit()
    query = seg.customers_query(
        db.session, expression, seg.Context(now=__import__("app.clock").clock.utcnow())
    )
    service.queue(
        db.session, campaign, service.audience_for(db.session, query, ensure_shop(db.session))
    )
    db.session.commit()
    return campaign


def _children(count, tag_name="班", with_words=True):
    tag = make_tag(tag_name)
    field = db.session.scalar(sa.select(CustomField).where(CustomField.key == "teachers_words"))
    if field is None:
        field = CustomField(key="teachers_words", label="老師的話")
        db.session.add(field)
        db.session.commit()
    children = []
    for number in range(count):
        child = make_customer(f"學生{number}", nickname=f"東城{number}")
        add_family_member(
            db.session,
            child,
            {"name": f"家長{number}", "email": f"parent{number}@example.com", "is_guardian": True},
        )
        if with_words:
            set_custom_values(db.session, child, {field.id: f"第{number}號很認真"})
        db.session.commit()
        tag_customer(child, tag)
        children.append(child)
    return children


def _many_children(count, tag_name="班"):
    """Like _children, in one transaction: the kill test needs thousands."""
    from app.models import Customer, FamilyMember

    tag = make_tag(tag_name)
    children = [
        Customer(display_name=f"學生{n}", nickname=f"東城{n}", member_number=f"M{n + 1:06d}", level="B",
                 consents={"marketing", "service"}, version=1, tags=[tag])
        for n in range(count)
    ]  # fmt: skip
    db.session.add_all(children)
    db.session.flush()
    db.session.add_all(
        FamilyMember(
            customer_id=child.id, name=f"家長{n}", email=f"parent{n}@example.com", is_guardian=True
        )
        for n, child in enumerate(children)
    )
    db.session.commit()
    return children


def _send(app, campaign, connections=1, **overrides):
    settings = send_settings(app)
    for key, value in overrides.items():
        setattr(settings, key, value)
    return service.send_campaign(
        db.session, campaign.id, settings, outbox.SmtpTarget.from_config(app.config),
        app.secret_key, connections=connections,
    )  # fmt: skip


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_personal_mail_in_chinese_for_guardians(outbox_app, smtp_server):
    _shop()
    children = _children(2)
    campaign = _campaign()
    report = _send(outbox_app, campaign)
    assert report.sent == 2
    messages = sorted(smtp_server.parsed(), key=lambda m: m["To"])
    first = messages[0]
    assert _subject(first) == "東城0家長您好：期末通知"
    assert "=?utf-8?" in smtp_server.messages[0][2].decode().lower()  # encoded on the wire
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert "東城0家長您好" in text and "第0號很認真" in text and "第0號很認真" in html
    assert "家長0" in first["To"] and "parent0@example.com" in first["To"]
    assert "hello@forest.example" in first["From"] and "小森林" in str(first["From"])
    assert first["Reply-To"] == "hello@forest.example"
    unsubscribe = first["List-Unsubscribe"].strip()
    assert re.fullmatch(r"<https://crm\.example\.com/u/[\w.\-]+>", unsubscribe)
    assert first["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in text
    ids = {m["Message-ID"] for m in messages}
    assert len(ids) == 2 and all(
        re.fullmatch(rf"<campaign-{campaign.id}\.delivery-\d+@forest\.example>", i) for i in ids
    )
    # Each mail is on its child's timeline.
    entries = db.session.scalars(
        sa.select(TimelineEntry).where(TimelineEntry.kind == "email")
    ).all()
    assert sorted(e.customer_id for e in entries) == sorted(c.id for c in children)
    assert db.session.get(Campaign, campaign.id).status == "done"


@pytest.mark.parametrize(
    ("kind", "locale", "greeting"),
    [
        ("afterschool", "zh_Hant", "東城家長您好"),
        ("afterschool", "en", "Dear parent of 東城"),
        ("homestay", "zh_Hant", "東城您好"),
        ("homestay", "en", "Dear 東城"),
    ],
)
def test_greeting_by_kind_and_language(app, kind, locale, greeting):
    shop = _shop(kind=kind, locale=locale)
    customer = make_customer("王東城", nickname="東城")
    values = service.merge_values(customer, shop, locale, "https://x/u/t", {"teachers_words": "好"})
    assert values["greeting"] == greeting and values["custom"]["teachers_words"] == "好"
    assert service.render_text("{{ greeting }}，{{ name }} {{ member_number }}", values).startswith(
        greeting + "，王東城 M"
    )


def test_skip_rules_are_counted_with_reasons(outbox_app, smtp_server):
    _shop()
    tag = make_tag("班")
    ok = make_customer("ok")
    add_family_member(
        db.session, ok, {"name": "媽媽", "email": "ok@example.com", "is_guardian": True}
    )
    opted = make_customer("opted", email="o@example.com", email_opt_out=True)
    no_consent = make_customer("nc", email="nc@example.com", consent=set())
    guardian_without = make_customer("gw")
    add_family_member(db.session, guardian_without, {"name": "爸爸", "is_guardian": True})
    nobody = make_customer("nobody")
    db.session.commit()
    for customer in (ok, opted, no_consent, guardian_without, nobody):
        tag_customer(customer, tag)
    campaign = _campaign(body="{{ greeting }}")
    reasons = dict(
        db.session.execute(
            sa.select(Delivery.customer_id, Delivery.skip_reason).where(
                Delivery.campaign_id == campaign.id
            )
        ).all()
    )
    assert reasons == {
        ok.id: None,
        opted.id: "opted_out",
        no_consent.id: "no_consent",
        guardian_without.id: "guardian_no_email",
        nobody.id: "no_email",
    }
    _send(outbox_app, campaign)
    assert [to for _t, to, _c in smtp_server.messages] == [["ok@example.com"]]
    assert service.counts(db.session, campaign.id)["skipped"] == 4


def test_template_problems_are_caught_at_compose_time():
    with pytest.raises(service.TemplateProblem) as problem:
        service.check_template("hello\n{{ greting }}", {"teachers_words"})
    assert (problem.value.code, problem.value.line) == ("unknown-field", 2)
    with pytest.raises(service.TemplateProblem) as problem:
        service.check_template("a\nb\n{{ custom.nope }}", {"teachers_words"})
    assert (problem.value.code, problem.value.line) == ("unknown-custom", 3)
    with pytest.raises(service.TemplateProblem) as problem:
        service.check_template("{% if %}", set())
    assert problem.value.code == "syntax"
    with pytest.raises(service.TemplateProblem):  # the sandbox stops attribute games
        service.render_text("{{ name.__class__.__mro__ }}", {"name": "x"})


def test_permanent_failure_fails_only_that_delivery(outbox_app, smtp_server):
    _shop()
    _children(3)
    smtp_server.refuse["parent1@example.com"] = "550 5.1.1 No such mailbox"
    campaign = _campaign()
    report = _send(outbox_app, campaign)
    assert (report.sent, report.failed) == (2, 1)
    failed = db.session.scalar(sa.select(Delivery).where(Delivery.status == "failed"))
    assert (
        failed.address == "parent1@example.com"
        and "550" in failed.error
        and "No such mailbox" in failed.error
    )


def test_an_address_that_cannot_be_encoded_fails_alone(outbox_app, smtp_server):
    _shop()
    children = _children(2)
    add_family_member(
        db.session, children[0], {"name": "x", "email": "東城@example.com", "is_guardian": True}
    )
    db.session.execute(
        sa.text("UPDATE family_member SET email = '東城@example.com' WHERE name = '家長0'")
    )
    db.session.commit()
    campaign = _campaign()
    report = _send(outbox_app, campaign)
    assert (report.sent, report.failed) == (1, 1)
    failed = db.session.execute(
        sa.select(Delivery.error_code, Delivery.error).where(Delivery.status == "failed")
    ).one()
    assert failed.error_code == "bad-address" and "ASCII" in failed.error


def test_temporary_failure_is_retried(outbox_app, smtp_server):
    _shop()
    _children(2)
    smtp_server.temporary_once["parent0@example.com"] = "451 4.3.0 Try again later"
    campaign = _campaign()
    _send(outbox_app, campaign)
    _send(outbox_app, campaign)  # what the rescheduled task does after the back-off
    delivery = db.session.scalar(
        sa.select(Delivery).where(Delivery.address == "parent0@example.com")
    )
    assert delivery.status == "sent" and delivery.attempts == 2
    assert sorted(to[0] for _t, to, _c in smtp_server.messages) == [
        "parent0@example.com",
        "parent1@example.com",
    ]


def test_server_refusing_everything_pauses_the_campaign_with_the_reason(outbox_app, smtp_server):
    _shop(failures=3)
    _children(6)
    smtp_server.refuse_all = "554 5.7.1 Relay access denied"
    campaign = _campaign()
    report = _send(outbox_app, campaign)
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.status == "paused" and campaign.pause_code == "channels"
    (email,) = service.channel_states(db.session, campaign)
    assert (email.state, email.reason_code) == ("paused", "failures-in-a-row")
    assert email.reason_details["count"] == 3 and "554" in email.reason_details["answer"]
    assert email.counts["paused"] == 3 and email.counts["failed"] == 3
    assert report.failed == 3 and service.counts(db.session, campaign.id)["queued"] == 3


def test_rate_limit_holds_in_every_window(outbox_app, smtp_server):
    _shop(rate=5)  # per window: 60 s in a shop, 2 s in these tests
    _children(12, with_words=False)
    campaign = _campaign(body="{{ greeting }}")
    _send(outbox_app, campaign)
    times = sorted(t for t, _to, _c in smtp_server.messages)
    assert len(times) == 12
    for start in times:
        assert sum(1 for t in times if start <= t < start + 2.0) <= 5


def test_unsubscribe_one_click_post_without_cookies(outbox_app, smtp_server):
    _shop()
    children = _children(1)
    campaign = _campaign()
    _send(outbox_app, campaign)
    link = re.search(r"<(https://[^>]+)>", smtp_server.parsed()[0]["List-Unsubscribe"]).group(1)
    path = link.replace("https://crm.example.com", "")
    anonymous = outbox_app.test_client()
    page = anonymous.get(path)  # link scanners fetch: nothing happens
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    db.session.refresh(children[0])
    assert not children[0].email_opt_out
    response = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(children[0])
    assert (
        children[0].email_opt_out
        and children[0].email_opt_out_source == f"unsubscribe link, campaign {campaign.id}"
    )
    assert service.counts(db.session, campaign.id)["unsubscribed"] == 1
    assert (
        db.session.scalar(sa.select(TimelineEntry).where(TimelineEntry.action == "unsubscribed"))
        is not None
    )
    assert anonymous.post(path[:-3] + "xyz").status_code == 404  # tampered
    assert anonymous.get("/u/not-a-token").status_code == 404


def test_opt_out_during_a_campaign_stops_later_mail(outbox_app, smtp_server):
    _shop()
    children = _children(3)
    campaign = _campaign()
    assert service.record_unsubscribe(db.session, campaign.id, children[2].id)
    db.session.commit()
    _send(outbox_app, campaign)
    assert sorted(to[0] for _t, to, _c in smtp_server.messages) == [
        "parent0@example.com",
        "parent1@example.com",
    ]
    assert (
        db.session.scalar(sa.select(Delivery.status).where(Delivery.customer_id == children[2].id))
        == "skipped"
    )


def test_queueing_twice_makes_no_second_delivery(outbox_app):
    _shop()
    _children(2)
    campaign = _campaign()
    query = seg.customers_query(
        db.session, "tag:班", seg.Context(now=__import__("app.clock").clock.utcnow())
    )
    service.queue(
        db.session, campaign, service.audience_for(db.session, query, ensure_shop(db.session))
    )
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 2


# ---- real worker processes ----------------------------------------------------------------


def _wait(predicate, timeout=90.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _counts(campaign_id):
    db.session.rollback()
    db.session.expire_all()
    return service.counts(db.session, campaign_id)


def test_worker_killed_again_and_again_sends_each_mail_once(outbox_app, smtp_server, workers):
    _shop()
    children = _many_children(2000)
    campaign = _campaign(body="{{ greeting }}")
    from app.tasks import send_campaign

    workers.start()
    send_campaign(campaign.id)
    kills = 0
    rng = random.Random(2026)
    while kills < 5:
        time.sleep(rng.uniform(0.3, 1.5))
        if _counts(campaign.id)["queued"] == 0:
            break
        workers.processes[-1].send_signal(signal.SIGKILL)
        workers.processes[-1].wait(10)
        kills += 1
        workers.start()
    assert _wait(
        lambda: _counts(campaign.id)["queued"] + _counts(campaign.id)["sending"] == 0, timeout=120
    )
    totals = _counts(campaign.id)
    received = [to[0] for _t, to, _c in smtp_server.messages]
    sent = set(db.session.scalars(sa.select(Delivery.address).where(Delivery.status == "sent")))
    uncertain = set(
        db.session.scalars(sa.select(Delivery.address).where(Delivery.status == "uncertain"))
    )
    everyone = {f"parent{n}@example.com" for n in range(len(children))}
    assert kills >= 1
    # At most one delivery per SMTP connection is between claim and confirm when killed.
    assert totals["uncertain"] <= kills * outbox_app.config.get("MAIL_CONNECTIONS", 4)
    assert sent | uncertain == everyone
    assert all(received.count(address) == 1 for address in sent), (
        "a confirmed delivery was sent twice"
    )
    assert set(received) - uncertain == sent
    assert all(received.count(address) <= 1 for address in uncertain)
    assert db.session.get(Campaign, campaign.id).status == "done"


def test_pause_and_resume_make_no_duplicates(outbox_app, smtp_server, workers):
    from tests.conftest import login
    from tests.factories import make_user

    client = outbox_app.test_client()  # (not the `client` fixture: that builds a second app)
    _shop(rate=10)  # ten per (test) window of 2 s, so there is time to pause
    _children(40, with_words=False)
    campaign = _campaign(body="{{ greeting }}")
    make_user("owner")
    login(client, make_user("frontdesk"))
    from app.tasks import send_campaign

    workers.start()
    send_campaign(campaign.id)
    assert _wait(lambda: _counts(campaign.id)["sent"] >= 5)
    client.post(f"/campaigns/{campaign.id}/pause")
    time.sleep(1.0)
    paused_at = len(smtp_server.messages)
    time.sleep(1.5)
    assert len(smtp_server.messages) == paused_at < 40
    assert db.session.get(Campaign, campaign.id).status == "paused"
    client.post(f"/campaigns/{campaign.id}/resume")
    assert _wait(lambda: len(smtp_server.messages) >= 40, timeout=60)
    time.sleep(0.5)
    received = [to[0] for _t, to, _c in smtp_server.messages]
    assert len(received) == len(set(received)) == 40


def test_one_unsubscribe_link_whether_or_not_the_text_has_one(outbox_app, smtp_server):
    _shop()
    _children(1, with_words=False)
    _send(outbox_app, _campaign(body="{{ greeting }}\n\n退訂：{{ unsubscribe_url }}"))
    _send(outbox_app, _campaign(body="{{ greeting }}", expression="tag:班 and has:email"))
    own, added = smtp_server.parsed()
    for message in (own, added):
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert text.count("/u/") == 1 and html.count('href="https://crm.example.com/u/') == 1
    assert "取消訂閱" in added.get_body(("plain",)).get_content()  # in the shop's language
