"""Campaign templates cannot stall the shop: refused at compose time with a clear message,
a stored one previews as a message, and a send that trips a bound fails that recipient or
pauses the campaign while the real worker carries on."""

import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, Delivery
from app.services import campaigns as service
from tests.campaigns.test_outbox import _campaign, _children, _counts, _shop, _wait
from tests.conftest import login
from tests.factories import make_customer, make_tag, make_user, tag_customer

ATTACKS = {
    "{{ '%999999999d' % 1 }}": "formatting cannot be used",
    "{{ lipsum(n=10**6) }}": "There is no merge field called “lipsum”",
    "{{ name.center(10**9) }}": "number in the template is too large",
    "{{ 'a'*10**8 }}": "far too long",
    "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}": "too large",
    "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}": "repeats too many",
    "{{ '{:>999999999}'.format(1) }}": "“format” cannot be used",
    "{{ name.replace('', name * 2000) }}": "far too long",
    "{% include 'base.html' %}": "“include” cannot be used",
    "{% import 'x.html' as x %}": "“import” cannot be used",
    "{% extends 'base.html' %}": "“extends” cannot be used",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}": "“macro” cannot be used",
    "{% for x in 'ab' recursive %}{{ loop(x) }}{% endfor %}": "“recursive” cannot be used",
    "{{ 1 / 0 }}": "cannot be filled in",
}


@pytest.mark.parametrize("body", list(ATTACKS))
def test_compose_refuses_templates_that_would_stall(client, owner, body):
    make_customer("王小明", email="ming@example.com")
    login(client, owner)
    started = time.monotonic()
    response = client.post(
        "/campaigns/new", data={"subject": "Hello", "body": body, "audience": "has:email"}
    )
    assert time.monotonic() - started < 5
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert ATTACKS[body] in text.replace("&#34;", '"').replace("&#39;", "'")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


UNKNOWN_FILTERS_AND_TESTS = {
    "{{ greeting|nosuch }}": "“|nosuch” cannot be used in a mail",
    "{{ greeting is nosuchtest }}": "“is nosuchtest” cannot be used in a mail",
    '{{ greeting|attr("x") }}': "“|attr” cannot be used in a mail",
    "{{ greeting|sort }}": "“|sort” cannot be used in a mail",
    "{{ greeting|wordwrap(1) }}": "“|wordwrap” cannot be used in a mail",
    "{{ greeting|indent(9) }}": "“|indent” cannot be used in a mail",
}


@pytest.mark.parametrize("field", ["subject", "body", "short_text"])
@pytest.mark.parametrize("template", list(UNKNOWN_FILTERS_AND_TESTS))
def test_compose_names_a_filter_or_test_templates_do_not_have(client, owner, field, template):
    """Jinja finds unknown filters and tests when it compiles, after parsing: that was a 500."""
    make_customer("王小明", email="ming@example.com")
    login(client, owner)
    data = {"subject": "Hello", "body": "Hi {{ nickname }}", "audience": "has:email"}
    if field == "short_text":
        data.update(send_by="sms")
    data[field] = template
    response = client.post("/campaigns/new", data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True).replace("&#34;", '"')
    assert UNKNOWN_FILTERS_AND_TESTS[template] in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_compose_in_chinese_says_why(client, owner):
    login(client, owner)
    response = client.post(
        "/campaigns/new",
        data={"subject": "您好", "body": "{{ 'a'*10**8 }}", "audience": "has:email"},
        headers={"Accept-Language": "zh-TW"},
    )
    assert response.status_code == 422
    assert "太長" in response.get_data(as_text=True)


def test_a_stored_bad_template_previews_as_a_message(client, owner):
    """A campaign saved before these checks existed: the page answers at once, no 500."""
    make_customer("王小明", email="ming@example.com", consent={"marketing"})
    campaign = Campaign(
        subject="Hi", body="{{ name.center(10**9) }}", audience="has:email", status="draft"
    )
    db.session.add(campaign)
    db.session.commit()
    login(client, owner)
    started = time.monotonic()
    response = client.get(f"/campaigns/{campaign.id}")
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert "too large" in response.get_data(as_text=True)
    sent = client.post(f"/campaigns/{campaign.id}/send")
    assert sent.status_code == 302
    assert db.session.get(Campaign, campaign.id).status == "draft"  # refused, nothing queued


def test_send_fails_only_the_recipient_whose_values_trip_a_bound(outbox_app, smtp_server, workers):
    """`{{ nickname * 2500 }}` is fine for short names; one guardian's long nickname would
    make a 75,000-character mail: that delivery fails, the others go, the worker lives."""
    _shop(failures=5)
    _children(3, with_words=False)
    tag = make_tag("長")
    long_named = make_customer("長名字", nickname="很長的名字" * 6, email="long@example.com")
    from app.services.customers import add_family_member

    add_family_member(
        db.session,
        long_named,
        {"name": "家長", "email": "long-parent@example.com", "is_guardian": True},
    )
    db.session.commit()
    tag_customer(long_named, tag)
    campaign = _campaign(expression="tag:班 or tag:長", body="{{ nickname * 2500 }}")
    from app.tasks import send_campaign

    worker = workers.start()
    send_campaign(campaign.id)
    assert _wait(lambda: _counts(campaign.id)["queued"] + _counts(campaign.id)["sending"] == 0)
    totals = _counts(campaign.id)
    assert (totals["sent"], totals["failed"]) == (3, 1)
    failed = db.session.scalar(sa.select(Delivery).where(Delivery.status == "failed"))
    assert failed.address == "long-parent@example.com"
    assert "template" in failed.error
    assert len(smtp_server.messages) == 3
    assert worker.poll() is None  # the worker is alive and well


def test_send_of_a_template_that_cannot_be_used_pauses_it(outbox_app, smtp_server, workers):
    _shop()
    _children(2, with_words=False)
    campaign = _campaign(body="{% include 'base.html' %}")
    from app.tasks import send_campaign

    worker = workers.start()
    send_campaign(campaign.id)

    def paused():
        db.session.rollback()
        return db.session.get(Campaign, campaign.id).status == "paused"

    assert _wait(paused)
    assert "include" in db.session.get(Campaign, campaign.id).pause_reason
    assert smtp_server.messages == []
    assert worker.poll() is None
    # …and the owner can cancel it.
    client = outbox_app.test_client()
    make_user("owner")
    login(client, make_user("frontdesk"))
    client.post(f"/campaigns/{campaign.id}/cancel")
    db.session.rollback()
    assert db.session.get(Campaign, campaign.id).status == "cancelled"


def test_templates_shops_write_still_work():
    service.check_template(
        "{{ greeting }}，\n{% if custom.teachers_words %}老師的話：{{ custom.teachers_words }}"
        "{% endif %}\n{% for word in ['a', 'b'] %}{{ loop.index }}{{ word|upper }}{% endfor %}"
        "{{ name|truncate(10) }} {{ nickname.strip() }} {{ member_number|default('—') }}",
        {"teachers_words"},
    )
