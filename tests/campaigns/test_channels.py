"""SMS and LINE beside email, against small real HTTP servers that follow Mitake's,
Every8d's and LINE's documented contracts (tests/fakes.py): numbers and parts, sending by
each person's preferred channel, duplicate keys after a crash, 429s, quotas, the webhook's
signature and linking, and real worker processes killed mid-send."""

import random
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import Campaign, Customer, Delivery, LineLink, TimelineEntry
from app.services import campaigns as service
from app.services import segments as seg
from app.services.campaigns import outbox
from app.services.channels import normalise_mobile, sms_parts
from app.services.channels.setup import dedupe_windows
from app.services.customers import add_family_member
from app.services.shop import ensure_shop
from app.tasks import channel_routes, send_settings
from tests.conftest import build_app, mail_config, release, write_worker_config
from tests.factories import make_customer, make_tag, tag_customer
from tests.fakes import FakeProviders, line_user_id


@pytest.fixture
def fakes():
    providers = FakeProviders()
    yield providers
    providers.stop()


@pytest.fixture
def channel_app(tmp_path, migrated_db, smtp_server, fakes):
    config = {
        **mail_config(smtp_server),
        "HUEY_IMMEDIATE": False,
        "MITAKE_API_BASE": fakes.base_url,
        "EVERY8D_API_BASE": fakes.base_url,
        "LINE_API_BASE": fakes.base_url,
        "CHANNEL_TIMEOUT": 5,
        "LINE_MULTICAST_SIZE": 50,
        # The providers' own limits are what the tests exercise (429s); ours stay out of
        # the way, or a kill would land while the worker waits for its window.
        "SMS_RATE_PER_SECOND": 100_000,
        "LINE_RATE_PER_SECOND": 100_000,
    }
    app = build_app(tmp_path, migrated_db, **config)
    write_worker_config(
        Path(app.instance_path),
        {**config, "SECRET_KEY": app.secret_key,
         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
    )  # fmt: skip
    with app.app_context():
        yield app
    release(app)


@pytest.fixture
def channel_workers(channel_app):
    from tests.conftest import Workers

    pool = Workers(Path(channel_app.instance_path))
    yield pool
    pool.stop_all()


def _shop(provider="mitake", kind="afterschool"):
    shop = ensure_shop(db.session)
    shop.kind, shop.default_locale, shop.name = kind, "zh_Hant", "小森林"
    shop.sender_address, shop.mail_rate_per_minute, shop.mail_max_consecutive_failures = (
        "hello@forest.example", 100000, 3)  # fmt: skip
    shop.public_base_url = "https://crm.example.com"
    shop.sms_provider, shop.sms_username, shop.sms_password = provider, "shop", "secret"
    shop.line_channel_secret, shop.line_access_token = "line-secret", "line-token"
    db.session.commit()
    return shop


def _link(customer, n):
    db.session.add(LineLink(customer_id=customer.id, user_id=line_user_id(n), linked_at=utcnow()))
    db.session.commit()


def _family(n, *, email=True, phone=True, line=False, preferred=None, tag=None):
    child = make_customer(f"學生{n}", nickname=f"東城{n}", preferred_channel=preferred)
    add_family_member(db.session, child, {
        "name": f"家長{n}", "email": f"parent{n}@example.com" if email else "",
        "phone": f"0912-345-{n:03d}" if phone else "", "is_guardian": True})  # fmt: skip
    db.session.commit()
    if line:
        _link(child, n)
    if tag is not None:
        tag_customer(child, tag)
    return child


def _campaign(channels="email", use_preferred=False, short_text="{{ greeting }}：明天停課一天",
              expression="tag:班"):  # fmt: skip
    campaign = Campaign(subject="{{ greeting }}：停課通知", body="{{ greeting }}\n\n明天停課。",
                        short_text=short_text, audience=expression, status="draft",
                        channels=channels.split(","), use_preferred=use_preferred)  # fmt: skip
    db.session.add(campaign)
    db.session.commit()
    query = seg.customers_query(db.session, expression, seg.Context(now=utcnow()))
    audience = service.audience_for(db.session, query, ensure_shop(db.session),
                                    campaign.channel_list, use_preferred)  # fmt: skip
    service.queue(db.session, campaign, audience)
    db.session.commit()
    return campaign, audience


def _send(app, campaign, **overrides):
    settings = send_settings(app)
    for key, value in overrides.items():
        setattr(settings, key, value)
    return service.send_campaign(
        db.session, campaign.id, settings, outbox.SmtpTarget.from_config(app.config),
        app.secret_key, connections=2, routes=channel_routes(app, settings.base_url),
    )  # fmt: skip


# ---- numbers and parts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "mobile"),
    [("0912-345-678", "0912345678"), ("0912 345 678", "0912345678"),
     ("+886 912 345 678", "0912345678"), ("+886-0912345678", "0912345678"),
     ("886912345678", "0912345678"), ("(09)12345678", "0912345678"),
     ("02-2345-6789", None), ("+1 415 555 0100", None), ("0912", None), ("", None),
     (None, None), ("09123456789", None)],
)  # fmt: skip
def test_taiwanese_mobile_numbers_are_normalised(typed, mobile):
    assert normalise_mobile(typed) == mobile


def test_message_parts_follow_the_gateways_rules():
    assert sms_parts("")["parts"] == 0
    assert sms_parts("a" * 160) == {"characters": 160, "parts": 1, "unicode": False,
                                     "per_part": 160}  # fmt: skip
    assert sms_parts("a" * 161)["parts"] == 2  # 153 per part once split
    assert sms_parts("a" * 306)["parts"] == 2 and sms_parts("a" * 307)["parts"] == 3
    assert sms_parts("停" * 70)["parts"] == 1 and sms_parts("停" * 71)["parts"] == 2
    assert sms_parts("停" * 134)["parts"] == 2 and sms_parts("停" * 135)["parts"] == 3
    assert sms_parts("Hi 你好")["unicode"] is True
    assert sms_parts("{}" * 40)["parts"] == 1 and sms_parts("{}" * 41)["parts"] == 2  # 2 each


# ---- one notice, each family by its channel ---------------------------------------------------


def test_each_family_gets_the_notice_by_its_preferred_channel(channel_app, fakes, smtp_server):
    _shop()
    tag = make_tag("班")
    by_line = _family(1, line=True, preferred="line", tag=tag)
    by_sms = _family(2, preferred="sms", tag=tag)
    by_email = _family(3, preferred="email", tag=tag)
    line_unlinked = _family(4, preferred="line", tag=tag)  # falls back: LINE, then SMS
    nothing = _family(5, email=False, phone=False, preferred="line", tag=tag)
    opted_out = _family(6, preferred="sms", tag=tag)
    opted_out.sms_opt_out = True
    db.session.commit()
    campaign, audience = _campaign(channels="line,sms,email", use_preferred=True)
    assert audience.by_channel() == {"email": 2, "sms": 2, "line": 1}
    assert audience.skipped() == {"line_not_linked": 1}
    chosen = {r.customer.id: (r.channel, r.address) for r in audience.sendable}
    assert chosen[by_line.id] == ("line", line_user_id(1))
    assert chosen[by_sms.id] == ("sms", "0912345002")
    assert chosen[by_email.id] == ("email", "parent3@example.com")
    assert chosen[line_unlinked.id] == ("sms", "0912345004")
    assert chosen[opted_out.id][0] == "email"  # no SMS for them: the next channel
    assert nothing.id not in chosen

    report = _send(channel_app, campaign)
    assert (report.sent, report.failed) == (5, 0)
    assert report.by_channel == {"email": 2, "sms": 2, "line": 1}
    assert [m["text"] for m in fakes.state.line] == ["東城1家長您好：明天停課一天"]
    assert sorted(m["to"] for m in fakes.state.sms) == ["0912345002", "0912345004"]
    assert len(smtp_server.messages) == 2
    # SMS and LINE carry the plain short text with its merge fields; each has its key.
    keys = dict(db.session.execute(sa.select(Delivery.address, Delivery.idempotency_key)).all())
    assert fakes.state.line[0]["key"] == keys[line_user_id(1)]
    assert {m["key"] for m in fakes.state.sms} == {keys["0912345002"], keys["0912345004"]}
    # The gateways' ids are kept (receipts find their delivery by them).
    assert db.session.scalar(
        sa.select(Delivery.provider_id).where(Delivery.address == "0912345002")
    ).startswith("M")
    # Every message is on the person's timeline with its channel.
    kinds = dict(db.session.execute(
        sa.select(TimelineEntry.customer_id, TimelineEntry.kind)
        .where(TimelineEntry.action == "campaign")).all())  # fmt: skip
    assert kinds == {by_line.id: "line", by_sms.id: "sms", by_email.id: "email",
                     line_unlinked.id: "sms", opted_out.id: "email"}  # fmt: skip
    assert db.session.get(Campaign, campaign.id).status == "done"


def test_every8d_sends_too(channel_app, fakes):
    _shop(provider="every8d")
    tag = make_tag("班")
    for n in range(3):
        _family(n, tag=tag)
    campaign, _audience = _campaign(channels="sms")
    report = _send(channel_app, campaign)
    assert report.sent == 3
    assert sorted(m["to"] for m in fakes.state.sms) == ["0912345000", "0912345001", "0912345002"]
    assert {m["provider"] for m in fakes.state.sms} == {"every8d"}


def test_a_repeat_after_a_crash_is_recognised_by_its_key(channel_app, fakes):
    _shop()
    tag = make_tag("班")
    for n in range(4):
        _family(n, line=True, tag=tag)
    sms_campaign, _ = _campaign(channels="sms")
    line_campaign, _ = _campaign(channels="line")
    # The worker died after the providers took the first of each, before it confirmed.
    for campaign in (sms_campaign, line_campaign):
        first = db.session.scalar(
            sa.select(Delivery).where(Delivery.campaign_id == campaign.id).order_by(Delivery.id)
        )
        first.status, first.claimed_at = "sending", utcnow()  # fmt: skip
        if campaign is sms_campaign:
            fakes.state.mitake_keys[first.idempotency_key] = "M000000999"
        else:
            fakes.state.retry_keys[first.idempotency_key] = "earlier-request"
    db.session.commit()
    assert service.recover_interrupted(db.session, dedupe_windows(ensure_shop(db.session))) == 0
    for campaign in (sms_campaign, line_campaign):
        assert _send(channel_app, campaign).sent == 4
    # Sent once each: the providers refused the repeats (Duplicate=Y; 409) and said so.
    assert len(fakes.state.sms) == 3 and len(fakes.state.line) == 3
    assert fakes.state.duplicates_refused == 2
    assert db.session.scalar(sa.select(sa.func.count()).where(Delivery.status == "sent")) == 8


def test_a_crash_on_a_gateway_without_keys_leaves_it_uncertain(channel_app, fakes):
    shop = _shop(provider="every8d")
    tag = make_tag("班")
    _family(1, tag=tag)
    campaign, _ = _campaign(channels="sms")
    delivery = db.session.scalar(sa.select(Delivery))
    delivery.status, delivery.claimed_at = "sending", utcnow()
    db.session.commit()
    assert service.recover_interrupted(db.session, dedupe_windows(shop)) == 1
    assert db.session.scalar(sa.select(Delivery.status)) == "uncertain"
    # A LINE send claimed longer ago than LINE remembers its keys is uncertain too.
    _link(db.session.get(Customer, delivery.customer_id), 1)
    line_campaign, _ = _campaign(channels="line")
    old = db.session.scalar(sa.select(Delivery).where(Delivery.campaign_id == line_campaign.id))
    old.status, old.claimed_at = "sending", utcnow() - timedelta(hours=25)
    db.session.commit()
    assert service.recover_interrupted(db.session, dedupe_windows(shop)) == 1
    assert _send(channel_app, campaign).sent == 0 and fakes.state.sms == []


def test_line_rate_limits_are_retried_and_a_used_up_quota_pauses(channel_app, fakes):
    _shop()
    tag = make_tag("班")
    for n in range(6):
        _family(n, line=True, tag=tag)
    fakes.state.rate_per_second = 2
    campaign, _ = _campaign(channels="line")
    report = _send(channel_app, campaign, retry_backoff=(0, 0, 0))
    assert fakes.state.rate_limited >= 1 and report.retried >= 1
    # 429 says "later": those wait for their retry time, nothing is lost or doubled.
    deadline = time.time() + 20
    while service.next_retry_in(db.session, campaign.id) is not None and time.time() < deadline:
        db.session.rollback()
        time.sleep(0.3)
        _send(channel_app, campaign)
    assert sorted(m["to"] for m in fakes.state.line) == sorted(line_user_id(n) for n in range(6))
    # A used-up monthly quota pauses the campaign; the delivery stays queued, unsent.
    fakes.state.rate_per_second = None
    fakes.state.monthly_limit = fakes.state.used
    second, _ = _campaign(channels="line")
    report = _send(channel_app, second)
    assert report.sent == 0 and "monthly limit" in report.paused
    db.session.expire_all()
    assert db.session.get(Campaign, second.id).status == "paused"
    assert db.session.scalar(sa.select(sa.func.count()).where(
        Delivery.campaign_id == second.id, Delivery.status == "queued")) == 6  # fmt: skip


def test_a_wrong_sms_password_pauses_instead_of_failing_everyone(channel_app, fakes):
    shop = _shop()
    shop.sms_password = "wrong"
    db.session.commit()
    tag = make_tag("班")
    for n in range(3):
        _family(n, tag=tag)
    campaign, _ = _campaign(channels="sms")
    report = _send(channel_app, campaign)
    assert report.sent == 0 and report.failed == 0 and "statuscode=e" in report.paused
    assert service.counts(db.session, campaign.id)["queued"] == 3


def test_a_channel_that_is_not_set_up_pauses_with_a_reason(channel_app, fakes):
    shop = _shop()
    shop.line_access_token = None
    db.session.commit()
    tag = make_tag("班")
    _family(1, line=True, tag=tag)
    campaign, _ = _campaign(channels="line")
    report = _send(channel_app, campaign)
    assert report.paused == "line is not set up"


def test_unfollowed_after_the_snapshot_is_skipped(channel_app, fakes):
    _shop()
    tag = make_tag("班")
    child = _family(1, line=True, tag=tag)
    campaign, _ = _campaign(channels="line")
    link = db.session.scalar(sa.select(LineLink).where(LineLink.customer_id == child.id))
    link.unfollowed_at = utcnow()
    db.session.commit()
    report = _send(channel_app, campaign)
    assert report.skipped == 1 and fakes.state.line == []


# ---- real workers killed mid-send -------------------------------------------------------------


def _sending_now(campaign_id: int, timeout: float = 60) -> bool:
    """Waits until the (new) worker is sending: more confirmed than when asked. False
    when nothing is left to send."""
    db.session.rollback()
    start = service.counts(db.session, campaign_id)["sent"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.05)
        db.session.rollback()
        totals = service.counts(db.session, campaign_id)
        if totals["queued"] == 0:
            return False
        if totals["sent"] >= start + 20:
            return True
    return False


@pytest.mark.parametrize("channel", ["sms", "line", "line-multicast"])
def test_worker_killed_mid_send_sends_each_message_once(
    channel_app, fakes, channel_workers, channel
):
    workers = channel_workers
    from app.models import FamilyMember

    _shop()
    tag = make_tag("班")
    count = 600
    children = [Customer(display_name=f"學生{n}", nickname=f"東城{n}", level="B", version=1,
                         member_number=f"M{n + 1:06d}",
                         consents={"marketing", "service"}, tags=[tag]) for n in range(count)]  # fmt: skip
    db.session.add_all(children)
    db.session.flush()
    db.session.add_all(FamilyMember(customer_id=c.id, name=f"家長{n}", phone=f"09{n:08d}",
                                    is_guardian=True) for n, c in enumerate(children))  # fmt: skip
    db.session.add_all(LineLink(customer_id=c.id, user_id=line_user_id(n), linked_at=utcnow())
                       for n, c in enumerate(children))  # fmt: skip
    db.session.commit()
    fakes.state.delay = 0.004  # a provider a few milliseconds away
    fakes.state.monthly_limit = None
    if channel == "line-multicast":  # the same text for everyone: groups of 50 per request
        fakes.state.delay = 0.15
        campaign, _ = _campaign(channels="line", short_text="明天颱風停課一天，請留意安全。")
    else:
        campaign, _ = _campaign(channels=channel)
    from app.tasks import send_campaign

    workers.start()
    send_campaign(campaign.id)
    kills, rng = 0, random.Random(14)
    while kills < 4:
        if not _sending_now(campaign.id):
            break
        time.sleep(rng.uniform(0.0, 0.2))
        workers.processes[-1].send_signal(signal.SIGKILL)
        workers.processes[-1].wait(10)
        kills += 1
        workers.start()
    deadline = time.time() + 120
    while time.time() < deadline:
        db.session.rollback()
        totals = service.counts(db.session, campaign.id)
        if totals["queued"] + totals["sending"] == 0:
            break
        time.sleep(0.3)
    assert kills >= 1
    totals = service.counts(db.session, campaign.id)
    # The providers de-duplicate by key: nothing uncertain, nothing lost, nothing twice.
    assert totals["sent"] == count and totals["uncertain"] == 0, totals
    delivered = [m["to"] for m in (fakes.state.sms if channel == "sms" else fakes.state.line)]
    assert len(delivered) == len(set(delivered)) == count
    if channel == "line-multicast":
        assert fakes.state.multicasts >= count // 50
    # Some were cut short after the provider took them: repeated with their key, refused.
    assert fakes.state.duplicates_refused >= 1
    assert _campaign_status_soon(campaign.id, "done") == "done"


def test_one_holiday_notice_reaches_each_family_by_its_channel_through_kills(
    channel_app, fakes, channel_workers, smtp_server
):
    """The issue's whole story: one notice, each family by its preferred channel (LINE,
    SMS or email), the worker killed again and again while it sends."""
    from app.models import FamilyMember

    workers = channel_workers
    _shop()
    tag = make_tag("班")
    count = 450
    preferred = ["line", "sms", "email"]
    children = [Customer(display_name=f"學生{n}", nickname=f"東城{n}", level="B", version=1,
                         member_number=f"M{n + 1:06d}", preferred_channel=preferred[n % 3],
                         consents={"marketing", "service"}, tags=[tag]) for n in range(count)]  # fmt: skip
    db.session.add_all(children)
    db.session.flush()
    db.session.add_all(FamilyMember(customer_id=c.id, name=f"家長{n}", phone=f"09{n:08d}",
                                    email=f"parent{n}@example.com", is_guardian=True)
                       for n, c in enumerate(children))  # fmt: skip
    db.session.add_all(LineLink(customer_id=c.id, user_id=line_user_id(n), linked_at=utcnow())
                       for n, c in enumerate(children) if n % 3 == 0)  # fmt: skip
    db.session.commit()
    fakes.state.delay = 0.004
    fakes.state.monthly_limit = None
    campaign, audience = _campaign(channels="line,sms,email", use_preferred=True)
    assert audience.by_channel() == {"email": 150, "sms": 150, "line": 150}
    from app.tasks import send_campaign

    workers.start()
    send_campaign(campaign.id)
    kills, rng = 0, random.Random(2026)
    while kills < 4:
        if not _sending_now(campaign.id):
            break
        time.sleep(rng.uniform(0.0, 0.2))
        workers.processes[-1].send_signal(signal.SIGKILL)
        workers.processes[-1].wait(10)
        kills += 1
        workers.start()
    deadline = time.time() + 120
    while time.time() < deadline:
        db.session.rollback()
        totals = service.counts(db.session, campaign.id)
        if totals["queued"] + totals["sending"] == 0:
            break
        time.sleep(0.3)
    assert kills >= 1
    by_channel = service.counts_by_channel(db.session, campaign.id)
    # LINE and SMS: exactly once each, nothing uncertain (their providers refuse repeats).
    for channel, delivered in (("line", fakes.state.line), ("sms", fakes.state.sms)):
        to = [m["to"] for m in delivered]
        assert len(to) == len(set(to)) == 150, channel
        assert by_channel[channel] == {"sent": 150}, (channel, by_channel[channel])
    # Email: never twice; at most the one in-flight mail per connection per kill is
    # "uncertain" for the owner, the rest sent.
    received = [to[0] for _t, to, _c in smtp_server.messages]
    assert len(received) == len(set(received))
    email = by_channel["email"]
    assert email.get("sent", 0) + email.get("uncertain", 0) == 150, email
    assert email.get("uncertain", 0) <= kills * channel_app.config.get("MAIL_CONNECTIONS", 4)
    assert _campaign_status_soon(campaign.id, "done") == "done"


def test_the_same_text_for_everyone_goes_by_multicast_and_a_cut_group_goes_again_whole(
    channel_app, fakes
):
    _shop()
    tag = make_tag("班")
    for n in range(120):
        _family(n, line=True, email=False, phone=False, tag=tag)
    campaign, _ = _campaign(channels="line", short_text="明天颱風停課一天。")
    rows = db.session.scalars(sa.select(Delivery).order_by(Delivery.id)).all()
    # A crash cut two groups short: LINE had taken the first, never saw the second.
    taken, lost = rows[:50], rows[50:100]
    for group, key in ((taken, taken[0].idempotency_key), (lost, lost[0].idempotency_key)):
        for delivery in group:
            delivery.status, delivery.claimed_at, delivery.batch_key = "sending", utcnow(), key
    db.session.commit()
    for delivery in taken:
        fakes.state.line.append({"to": delivery.address, "text": "明天颱風停課一天。",
                                 "key": taken[0].idempotency_key})  # fmt: skip
    fakes.state.retry_keys[taken[0].idempotency_key] = "earlier"
    service.recover_interrupted(db.session, dedupe_windows(ensure_shop(db.session)))
    report = _send(channel_app, campaign)
    assert report.sent == 120
    to = [m["to"] for m in fakes.state.line]
    assert len(to) == len(set(to)) == 120  # nobody twice, nobody left out
    # The taken group was refused as a repeat; the lost one and the rest were multicast.
    assert fakes.state.duplicates_refused == 1
    assert fakes.state.multicasts == 2  # accepted: the lost group again, the last 20


def _campaign_status_soon(campaign_id: int, wanted: str, timeout: float = 30.0) -> str:
    """The campaign's status once it is `wanted` (or the last one seen): the worker marks a
    campaign done in its own commit, a moment after the last delivery's."""
    deadline = time.time() + timeout
    while True:
        db.session.rollback()
        status = db.session.get(Campaign, campaign_id).status
        if status == wanted or time.time() > deadline:
            return status
        time.sleep(0.2)
