"""The owner's summary: every figure equals a direct count, and the filter behind its link
finds exactly those; the alert trend splits months in the shop's time zone."""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import Customer, TimelineEntry
from app.services import segments as seg
from app.services.home import dashboard
from devtools.demo import seed_demo
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_user

ZONE = ZoneInfo("Asia/Taipei")


def local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZONE)


def test_figures_equal_direct_counts_on_a_generated_shop(app):
    seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=60)
    db.session.commit()
    context = seg.Context(now=utcnow(), zone="Asia/Taipei")
    summary = dashboard.summary(db.session, context)
    customers = db.session.scalars(sa.select(Customer)).all()
    entries = db.session.scalars(sa.select(TimelineEntry)).all()
    today = context.today
    live = [c for c in customers if c.archived_at is None]

    assert summary.customers_total == len(live) == 60
    new = [c for c in live if local(c.created_at).date() >= today.replace(day=1)]
    assert summary.new_this_month == len(new)
    assert seg.count(db.session, summary.new_expression, context) == len(new)
    assert summary.levels == dict(Counter(c.level for c in live)) | {
        level: 0 for level in "ABC" if level not in {c.level for c in live}
    }
    week_start = today - timedelta(days=today.weekday())
    this_week = [e for e in entries if local(e.created_at).date() >= week_start and e.kind != "tag"]
    assert summary.activity_by_kind == dict(Counter(e.kind for e in this_week))
    assert {a: n for a, _name, n in summary.activity_by_author} == dict(
        Counter(e.author_id for e in this_week if e.author_id)
    )
    alerts_now = Counter(
        keyword
        for e in entries
        if e.kind == "alert" and local(e.created_at).date() >= today.replace(day=1)
        for keyword in e.keywords
    )
    assert {t.keyword: t.this_month for t in summary.alert_keywords if t.this_month} == {
        k: n
        for k, n in alerts_now.most_common()
        if k in {t.keyword for t in summary.alert_keywords}
    }
    assert summary.alert_keywords[0].this_month == max(alerts_now.values())
    assert summary.birthdays_count == seg.count(db.session, "birthday:within 30d", context)
    assert summary.lapsed_count == seg.count(db.session, summary.lapsed_expression, context)
    assert summary.reminders["today"] + summary.reminders["overdue"] > 0  # the demo's rules ran


def test_the_alert_trend_splits_months_in_the_shop_time_zone(app):
    owner = make_user("owner")
    child = make_customer()
    # 23:30 on 31 October in Taipei is last month; 00:30 on 1 November is this month,
    # although both are 31 October in UTC.
    for when, keywords in (
        (datetime(2026, 10, 31, 15, 30), "花生"),
        (datetime(2026, 10, 31, 16, 30), "花生"),
        (datetime(2026, 11, 10, 2, 0), "花生, peanut"),
        (datetime(2026, 9, 30, 12, 0), "花生"),  # two months ago: not counted
    ):
        alert = make_alert(child, author=owner, keywords=keywords)
        alert.created_at = when
    db.session.commit()
    context = seg.Context(now=datetime(2026, 11, 15, 4, 0), zone="Asia/Taipei")
    trends = {t.keyword: t for t in dashboard.summary(db.session, context).alert_keywords}
    assert (trends["花生"].last_month, trends["花生"].this_month, trends["花生"].change) == (
        1,
        2,
        1,
    )
    assert (trends["peanut"].last_month, trends["peanut"].this_month) == (0, 1)


def test_the_owner_home_links_each_number_to_its_list(app, client):
    owner = make_user("owner")
    child = make_customer("花生寶寶")
    make_alert(child, author=owner, keywords="花生")
    login(client, owner)
    html = client.get("/").get_data(as_text=True)
    assert "Alerts this month" in html and "花生" in html
    assert "/feed?kind=alert&amp;keyword=%E8%8A%B1%E7%94%9F" in html
    assert "/customers/?q=created+%3E%3D+" in html
    feed = client.get(
        f"/feed?kind=alert&keyword=花生&day={utcnow().date().replace(day=1).isoformat()}&until={local(utcnow()).date().isoformat()}"
    ).get_data(as_text=True)
    assert "花生寶寶" in feed


def test_feed_ranges_with_bad_input_fall_back_to_one_day(app, client):
    owner = make_user("owner")
    login(client, owner)
    for query in (
        "day=2026-11-01&until=soon",
        "day=nope&until=2026-02-30",
        "until=2020-01-01",
        "keyword=" + "花" * 200,
    ):
        response = client.get(f"/feed?{query}")
        assert response.status_code == 200, query
        assert "What happened on" in response.get_data(
            as_text=True
        ) or "What happened from" in response.get_data(as_text=True)
