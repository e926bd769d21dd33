"""Purchases and the three I-CRM reports, checked against answers worked out by hand."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Purchase, TimelineEntry
from app.services import purchases as service
from app.services.purchases import PurchaseError
from app.services.reports import sales
from tests.factories import make_customer, make_user

TODAY = date(2026, 11, 24)


def _product(name, price, points=0, active=True):
    product = service.save_product(
        db.session, None, name=name, price=price, points=points, active=active
    )
    db.session.commit()
    return product


def _buy(customer, product, day, quantity=1, unit_price=None, note=""):
    purchase = service.add_purchase(
        db.session, customer, product=product, day=day, quantity=quantity,
        unit_price=unit_price, note=note, today=TODAY,
    )  # fmt: skip
    db.session.commit()
    return purchase


@pytest.fixture
def shop(app):
    amy = make_user("frontdesk", name="Amy")
    ben = make_user("frontdesk", name="Ben")
    tea = _product("普洱茶", 1200, 30)
    tea2 = _product("普洱茶禮盒", 3600, 90)
    oolong = _product("凍頂烏龍", 800, 20)
    towel = _product("廚房紙巾", 99, 1)
    chen = make_customer("陳小姐", assigned_user_id=amy.id)
    lin = make_customer("林先生", assigned_user_id=amy.id)
    wang = make_customer("王太太", assigned_user_id=ben.id)
    nobody = make_customer("張同學")
    _buy(chen, tea, date(2026, 6, 1), 2)  # inside the half year (from 2026-05-24)
    _buy(chen, tea, date(2026, 9, 10), 1)
    _buy(chen, towel, date(2026, 10, 1), 5)
    _buy(lin, oolong, date(2026, 3, 3), 1)  # more than half a year ago
    _buy(lin, tea2, date(2026, 11, 20), 1, unit_price=3000, note="週年慶")
    _buy(wang, tea, date(2025, 12, 31), 3)
    _buy(wang, tea, date(2026, 8, 8), 2)
    _buy(wang, tea, date(2026, 8, 8), 1)  # the same day again: 3 that day
    _buy(nobody, oolong, date(2026, 7, 7), 4)
    return {"tea": tea, "tea2": tea2, "oolong": oolong, "towel": towel,
            "chen": chen, "lin": lin, "wang": wang, "nobody": nobody}  # fmt: skip


def test_half_year_report_by_team_customer_and_product(shop):
    rows = [
        (r.team, r.customer, r.product, r.quantity, r.amount)
        for r in sales.report_half_year(db.session, TODAY)
    ]
    # Since 2026-05-24: Amy's customers by name, then Ben's, then no one's (names in
    # code-point order, as the database sorts them).
    assert rows == [
        ("Amy", "林先生", "普洱茶禮盒", 1, 3000),
        ("Amy", "陳小姐", "廚房紙巾", 5, 495),
        ("Amy", "陳小姐", "普洱茶", 3, 3600),
        ("Ben", "王太太", "普洱茶", 3, 3600),
        (None, "張同學", "凍頂烏龍", 4, 3200),
    ]
    assert ("Amy", "林先生", "凍頂烏龍", 1, 800) not in rows  # March: too long ago
    assert sales.half_year_start(date(2026, 8, 31)) == date(2026, 2, 28)


def test_product_history_with_wildcards(shop):
    since = date(2026, 1, 1)
    exact = [(r.day, r.customer, r.product, r.quantity) for r in
             sales.report_history(db.session, since, "普洱茶")]  # fmt: skip
    assert exact == [
        (date(2026, 6, 1), "陳小姐", "普洱茶", 2),
        (date(2026, 8, 8), "王太太", "普洱茶", 2),
        (date(2026, 8, 8), "王太太", "普洱茶", 1),
        (date(2026, 9, 10), "陳小姐", "普洱茶", 1),
    ]
    starting = sales.report_history(db.session, since, "普洱*")
    assert {r.product for r in starting} == {"普洱茶", "普洱茶禮盒"} and len(starting) == 5
    assert starting[-1].amount == 3000 and starting[-1].note == "週年慶"
    ending = sales.report_history(db.session, since, "*烏龍")
    assert [(r.day, r.customer) for r in ending] == [
        (date(2026, 3, 3), "林先生"),
        (date(2026, 7, 7), "張同學"),
    ]
    assert len(sales.report_history(db.session, since, "*")) == 8  # all since 2026
    assert sales.report_history(db.session, since, "100%") == []  # % is literal
    with pytest.raises(PurchaseError):
        sales.report_history(db.session, since, "  ")


def test_repurchase_report_oldest_first_with_the_last_days_quantity(shop):
    rows = [
        (r.customer, r.product, r.last_day, r.quantity)
        for r in sales.report_repurchase(db.session, TODAY, min_price=1000)
    ]
    # Towels (NT$99) and oolong (NT$800) are below the minimum price.
    assert rows == [
        ("王太太", "普洱茶", date(2026, 8, 8), 3),
        ("陳小姐", "普洱茶", date(2026, 9, 10), 1),
        ("林先生", "普洱茶禮盒", date(2026, 11, 20), 1),
    ]
    by_points = sales.report_repurchase(db.session, TODAY, min_points=20)
    assert [(r.customer, r.product) for r in by_points][:2] == [
        ("林先生", "凍頂烏龍"),
        ("張同學", "凍頂烏龍"),
    ]
    assert by_points[0].days_ago == (TODAY - date(2026, 3, 3)).days
    everything = sales.report_repurchase(db.session, TODAY)  # no minimum: every product
    assert {r.product for r in everything} == {"普洱茶", "普洱茶禮盒", "凍頂烏龍"} | {
        r.product for r in everything if r.product == "廚房紙巾"
    }
    assert [r.last_day for r in everything] == sorted(r.last_day for r in everything)


def test_a_screenful_of_the_repurchase_report_is_the_start_of_the_whole_report(shop):
    """With a limit only the oldest days are joined to names: the rows (ties on the last
    day included, erased customers left out) are the whole report's first rows."""
    whole = sales.report_repurchase(db.session, TODAY)
    for limit in range(1, len(whole) + 2):
        assert sales.report_repurchase(db.session, TODAY, limit=limit) == whole[:limit]
    from app.services.privacy import erase

    erase(db.session, shop["chen"], typed_name=shop["chen"].display_name)
    db.session.commit()
    whole = sales.report_repurchase(db.session, TODAY)
    assert all(row.customer != "陳小姐" for row in whole)
    for limit in range(1, len(whole) + 2):
        assert sales.report_repurchase(db.session, TODAY, limit=limit) == whole[:limit]


def test_a_purchase_is_on_the_timeline_and_edits_and_deletes_keep_it_in_step(shop):
    chen, tea = shop["chen"], shop["tea"]
    purchase = _buy(chen, tea, date(2024, 2, 29), 2, note="補登紙本")
    entry = db.session.get(TimelineEntry, purchase.entry_id)
    assert entry.kind == "purchase" and "普洱茶 × 2 (NT$2,400) — 補登紙本" == entry.body
    assert entry.created_at.date() == date(2024, 2, 29)  # typed in late, filed under its day
    service.edit_purchase(
        db.session, purchase, product=shop["oolong"], day=date(2024, 3, 1), quantity=3,
        unit_price=700, note="", today=TODAY,
    )  # fmt: skip
    db.session.commit()
    assert db.session.get(TimelineEntry, purchase.entry_id).body == "凍頂烏龍 × 3 (NT$2,100)"
    figures = service.figures(db.session, chen.id)
    assert (figures.purchases, figures.spend) == (4, 2400 + 1200 + 495 + 2100)
    entry_id = purchase.entry_id
    service.delete_purchase(db.session, purchase)
    db.session.commit()
    assert db.session.get(TimelineEntry, entry_id) is None


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": "x"}, "quantity"),
        ({"quantity": 10**9}, "quantity"),
        ({"unit_price": -1}, "price"),
        ({"day": date(2026, 12, 31)}, "date-range"),
        ({"day": "2026-01-01"}, "date"),
        ({"note": "長" * 501}, "note-long"),
    ],
)
def test_bad_purchases_are_refused_whole(shop, fields, code):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Purchase))
    values = {"day": date(2026, 1, 1), "quantity": 1, "unit_price": None, "note": ""} | fields
    with pytest.raises(PurchaseError) as problem:
        service.add_purchase(db.session, shop["chen"], product=shop["tea"], today=TODAY, **values)
    db.session.rollback()
    assert problem.value.code == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Purchase)) == before


def test_catalogue_names_are_unique_and_found_by_any_part(shop):
    with pytest.raises(PurchaseError) as problem:
        service.save_product(db.session, None, name=" 普洱茶 ", price=1, points=0)
    assert problem.value.code == "product-exists"
    db.session.rollback()
    assert [p.name for p in service.find_products(db.session, "洱")] == ["普洱茶", "普洱茶禮盒"]
    assert service.find_products(db.session, "%") == []


def _who(text: str) -> set[str]:
    from datetime import datetime

    from app.services import segments as seg

    context = seg.Context(now=datetime(2026, 11, 24, 4, 0), zone="Asia/Taipei")
    return {
        c.display_name for c in db.session.scalars(seg.customers_query(db.session, text, context))
    }


def test_purchase_conditions_in_filters(shop):
    from app.services import segments as seg

    assert _who("bought:普洱茶") == {"陳小姐", "王太太"}
    assert _who('bought:"普洱*" < 30d') == {"林先生"}  # 普洱茶禮盒 on 11-20
    assert _who("bought:普洱茶 > 90d") == {"王太太"}  # last on 8-8; 陳小姐's last was 9-10
    assert _who("bought:*烏龍 and not bought:普洱*") == {"張同學"}
    # Spend: 陳 2,400+1,200+495; 林 800+3,000; 王 3,600+2,400+1,200; 張 3,200.
    assert _who("spend >= 5000") == {"王太太"}
    assert _who("spend < 3500") == {"張同學"}
    assert _who("purchases >= 3") == {"陳小姐", "王太太"}
    make_customer("新客人")
    assert _who("not has:purchase") == {"新客人"} == _who("spend = 0")
    assert _who("spend < 100") == {"新客人"}  # nothing bought counts as NT$0
    for text in ('bought:"普洱 茶*" < 90d', "spend >= 10000", "purchases = 2", "bought:x"):
        assert seg.parse(seg.to_text(seg.parse(text))) == seg.parse(text)
    assert seg.to_text(seg.parse('bought:"普洱茶"  <  90 days')) == "bought:普洱茶 < 90d"
    with pytest.raises(seg.SegmentError) as problem:
        seg.parse("spend 100")
    assert problem.value.code == "expected-amount"


def test_the_repurchase_rule_reads_real_purchases(shop):
    from datetime import datetime

    from app.models import Reminder, ReminderRule
    from app.services import reminders
    from app.services import segments as seg

    rule = ReminderRule(name="普洱回購", kind="return", days=60, entry_kind="purchase",
                        keyword="普洱")  # fmt: skip
    db.session.add(rule)
    db.session.commit()
    context = seg.Context(now=datetime(2026, 11, 24, 4, 0), zone="Asia/Taipei")
    reminders.run_rule(db.session, rule, context)
    db.session.commit()
    due = db.session.scalars(
        sa.select(Reminder.customer_id).where(Reminder.rule_id == rule.id)
    ).all()
    # Last 普洱 purchases: 王 8-8 (108 days: past the window), 陳 9-10 (75 days: due),
    # 林 11-20 (4 days: not yet). Oolong and towels do not count.
    assert due == [shop["chen"].id]


def test_the_builder_shows_and_writes_purchase_conditions(shop):
    from app.services import segments as seg

    builder = seg.Builder(include=["VIP"], bought="普洱*", bought_within_days=90,
                          spend_at_least=5000)  # fmt: skip
    text = builder.to_text()
    assert text == "tag:VIP and bought:普洱* < 90d and spend >= 5000"
    again = seg.builder_from_text(text)
    assert (again.bought, again.bought_within_days, again.spend_at_least) == ("普洱*", 90, 5000)
    assert again.representable
    ever = seg.builder_from_text("bought:凍頂烏龍")
    assert (ever.bought, ever.bought_within_days) == ("凍頂烏龍", None)
    assert not seg.builder_from_text("bought:x > 30d").representable  # the text box keeps it
    stays = seg.builder_from_text("stayed > 730d and stays >= 3")
    assert (stays.no_visit_days, stays.stays_at_least, stays.representable) == (730, 3, True)
    again = seg.builder_from_text("visited > 730d and stays >= 3")
    assert (again.no_visit_days, again.stays_at_least, again.representable) == (730, 3, True)
