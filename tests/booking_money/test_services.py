"""Booking money services: the quote night by night, the deposit a booking asks, payments and
their 5 digits, the refund table at each boundary, cancel, release, no-show, home figures."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import StayMoney, StayPayment, TimelineEntry
from app.services import booking_money as money
from app.services import stays
from app.services.booking_money import MoneyError
from tests.factories import make_customer, make_user

TODAY = date(2026, 12, 7)  # a Monday
MONDAY = date(2027, 1, 4)


@pytest.fixture
def room(app):
    room = stays.save_room(db.session, None, "海景雙人房")
    money.save_rate(db.session, room, {"weekday": 2000, "weekend": 2800, "holiday": 3600,
                                       "extra_bed": 500, "child": 300})  # fmt: skip
    db.session.commit()
    return room


def _book(room, check_in, nights=2, amount=0, deposit=0, today=TODAY, customer=None):
    customer = customer or make_customer("陳美玲", email="mei@example.com")
    stay = stays.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": check_in, "check_out": check_in + timedelta(nights),
         "status": "booked", "adults": 2, "amount": amount, "deposit": deposit},
        actor=None, today=today,
    )  # fmt: skip
    db.session.commit()
    return stay


def _kinds(result):
    return {line.kind: (line.count, line.unit, line.amount) for line in result.lines}


def test_weekday_nights_only(room):
    result = money.quote(db.session, room.id, MONDAY, MONDAY + timedelta(3))
    assert _kinds(result) == {"weekday": (3, 2000, 6000)} and result.total == 6000


def test_friday_and_saturday_are_weekend_nights_sunday_is_not(room):
    friday = MONDAY + timedelta(4)
    result = money.quote(db.session, room.id, friday, friday + timedelta(3))  # Fri, Sat, Sun
    assert _kinds(result) == {"weekday": (1, 2000, 2000), "weekend": (2, 2800, 5600)}
    assert result.total == 7600


def test_a_listed_holiday_beats_weekday_and_weekend(room):
    friday = MONDAY + timedelta(4)
    money.add_holiday(db.session, friday, "連假")
    money.add_holiday(db.session, MONDAY + timedelta(1), "春節")
    result = money.quote(db.session, room.id, MONDAY, MONDAY + timedelta(6))  # Mon..Sat
    assert _kinds(result) == {
        "weekday": (3, 2000, 6000), "weekend": (1, 2800, 2800), "holiday": (2, 3600, 7200),
    }  # fmt: skip
    assert [line.names for line in result.lines if line.kind == "holiday"] == [["春節", "連假"]]
    assert result.total == 16000


def test_extra_beds_and_children_are_per_night(room):
    result = money.quote(db.session, room.id, MONDAY, MONDAY + timedelta(2), adults=2,
                         children=2, extra_beds=1)  # fmt: skip
    kinds = _kinds(result)
    assert kinds["extra_bed"] == (2, 500, 1000) and kinds["child"] == (4, 300, 1200)
    assert result.total == 4000 + 1000 + 1200


def test_missing_prices_fall_back_weekend_to_weekday_holiday_to_weekend(app):
    room = stays.save_room(db.session, None, "小房")
    money.save_rate(db.session, room, {"weekday": 1500})
    friday = MONDAY + timedelta(4)
    money.add_holiday(db.session, friday + timedelta(1), "連假")
    result = money.quote(db.session, room.id, friday, friday + timedelta(2))
    assert result.total == 3000 and result.priced


def test_quote_refuses_bad_dates_and_counts(room):
    with pytest.raises(MoneyError, match="check-out-first"):
        money.quote(db.session, room.id, MONDAY, MONDAY)
    with pytest.raises(MoneyError, match="too-long"):
        money.quote(db.session, room.id, MONDAY, MONDAY + timedelta(400))
    with pytest.raises(MoneyError, match="extra-beds"):
        money.quote(db.session, room.id, MONDAY, MONDAY + timedelta(1), extra_beds=-1)
    with pytest.raises(MoneyError, match="room"):
        money.quote(db.session, room.id + 99, MONDAY, MONDAY + timedelta(1))


def test_a_new_booking_asks_30_percent_within_3_days(room):
    stay = _book(room, MONDAY, nights=2)  # 2 weekday nights: 4000
    row = db.session.get(StayMoney, stay.id)
    assert (row.quote, row.deposit_due, row.deposit_due_on) == (4000, 1200, TODAY + timedelta(3))


def test_the_shops_terms_and_a_typed_deposit_decide(room):
    money.save_terms(db.session, {"deposit_percent": 50, "deposit_due_days": 5})
    stay = _book(room, MONDAY, amount=5001)
    row = db.session.get(StayMoney, stay.id)
    assert (row.deposit_due, row.deposit_due_on) == (2501, TODAY + timedelta(5))
    typed = _book(room, MONDAY + timedelta(10), deposit=1000, customer=make_customer("林"))
    assert db.session.get(StayMoney, typed.id).deposit_due == 1000


def test_a_deposit_is_due_by_arrival_at_the_latest(room):
    stay = _book(room, TODAY + timedelta(1))
    assert db.session.get(StayMoney, stay.id).deposit_due_on == TODAY + timedelta(1)


def test_past_stays_typed_in_ask_no_deposit(room):
    customer = make_customer("王")
    stay = stays.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": date(2025, 1, 1), "check_out": date(2025, 1, 2),
         "status": "stayed", "adults": 2},
        actor=None, today=TODAY,
    )  # fmt: skip
    assert db.session.get(StayMoney, stay.id) is None


def test_the_deposit_follows_the_price_until_paid(room):
    stay = _book(room, MONDAY)
    customer = stay.customer
    values = {"room_id": room.id, "check_in": MONDAY, "check_out": MONDAY + timedelta(2),
              "status": "booked", "adults": 2, "amount": 10000}  # fmt: skip
    stays.save_stay(db.session, customer, stay, values, actor=None, today=TODAY)
    assert db.session.get(StayMoney, stay.id).deposit_due == 3000
    _pay(stay, "deposit", 3000)
    stays.save_stay(db.session, customer, stay, {**values, "amount": 20000}, actor=None,
                    today=TODAY)  # fmt: skip
    assert db.session.get(StayMoney, stay.id).deposit_due == 3000


def _pay(stay, kind, amount, method="transfer", digits="12345", day=TODAY, actor=None):
    payment = money.record_payment(
        db.session, stay, {"kind": kind, "method": method, "paid_on": day, "amount": amount,
                           "account_last5": digits}, actor=actor, today=TODAY,
    )  # fmt: skip
    db.session.commit()
    return payment


def test_a_transfer_is_recorded_with_its_digits_on_the_timeline(room):
    desk = make_user("frontdesk", name="Amy")
    stay = _book(room, MONDAY)
    _pay(stay, "deposit", 1200, digits="04321", day=TODAY - timedelta(1), actor=desk)
    state = money.money_state(db.session, stay)
    assert state.deposit_paid and state.paid == 1200 and state.balance == 2800
    line = db.session.scalar(sa.select(TimelineEntry).where(
        TimelineEntry.action == "booking_money"))  # fmt: skip
    assert "04321" in line.body and "1,200" in line.body and line.author_id == desk.id


@pytest.mark.parametrize("digits", ["1234", "123456", "12a45", "", " 1234 "])
def test_a_transfer_needs_exactly_five_digits(room, digits):
    stay = _book(room, MONDAY)
    with pytest.raises(MoneyError, match="last5"):
        _pay(stay, "deposit", 1200, digits=digits)


def test_payments_refuse_future_dates_and_zero_amounts(room):
    stay = _book(room, MONDAY)
    with pytest.raises(MoneyError, match="paid-on-range"):
        _pay(stay, "deposit", 1200, day=TODAY + timedelta(1))
    with pytest.raises(MoneyError, match="amount"):
        _pay(stay, "deposit", 0)


def test_the_balance_on_arrival_by_cash_or_card(room):
    stay = _book(room, MONDAY)
    _pay(stay, "deposit", 1200)
    _pay(stay, "balance", 2800, method="cash", digits="")
    state = money.money_state(db.session, stay)
    assert state.balance == 0 and state.paid == 4000


@pytest.mark.parametrize(
    ("days", "percent"),
    [(30, 100), (14, 100), (13, 70), (10, 70), (9, 50), (7, 50), (6, 40), (4, 40), (3, 30),
     (2, 30), (1, 20), (0, 0), (-1, 0)],
)  # fmt: skip
def test_the_default_refund_table_at_each_boundary(app, days, percent):
    assert money.refund_percent(money.refund_rules(db.session), days) == percent


def test_cancelling_refunds_the_policys_share_of_what_was_paid(room):
    stay = _book(room, TODAY + timedelta(10))
    _pay(stay, "deposit", 1201)
    figures = money.cancel(db.session, stay, actor=None, today=TODAY)
    db.session.commit()
    assert (figures.days_before, figures.percent, figures.refund) == (10, 70, 841)
    assert stay.status == "cancelled"
    refund = db.session.scalar(sa.select(StayPayment).where(StayPayment.kind == "refund"))
    assert refund.amount == 841 and money.money_state(db.session, stay).paid == 360
    bodies = [e.body for e in db.session.scalars(sa.select(TimelineEntry))]
    assert any("841" in body and "70%" in body for body in bodies)
    with pytest.raises(MoneyError, match="not-booked"):
        money.cancel(db.session, stay, actor=None, today=TODAY)


def test_the_owners_own_policy(room):
    money.save_refund_rules(db.session, [(30, 100), (0, 10), ("", "")])
    assert money.refund_rules(db.session) == [(30, 100), (0, 10)]
    stay = _book(room, TODAY + timedelta(5))
    _pay(stay, "deposit", 1000)
    assert money.cancel_quote(db.session, stay, TODAY).refund == 100
    with pytest.raises(MoneyError, match="rule-zero"):
        money.save_refund_rules(db.session, [(7, 50)])
    with pytest.raises(MoneyError, match="rule-twice"):
        money.save_refund_rules(db.session, [(7, 50), (7, 40), (0, 0)])


def test_a_no_show_keeps_the_money_only_after_the_arrival_day(room):
    stay = _book(room, TODAY + timedelta(1))
    _pay(stay, "deposit", 1200)
    with pytest.raises(MoneyError, match="not-yet"):
        money.no_show(db.session, stay, actor=None, today=TODAY + timedelta(1))
    assert money.no_show(db.session, stay, actor=None, today=TODAY + timedelta(2)) == 1200
    assert stay.status == "no_show"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StayPayment)) == 1


def test_late_deposits_and_releasing_the_room(room):
    late = _book(room, TODAY + timedelta(20), today=TODAY - timedelta(5))
    paid = _book(room, TODAY + timedelta(30), today=TODAY - timedelta(5),
                 customer=make_customer("林"))  # fmt: skip
    _pay(paid, "deposit", 1200)
    soon = _book(room, TODAY + timedelta(40), customer=make_customer("張"))
    assert [d.stay.id for d in money.deposits_past_due(db.session, TODAY)] == [late.id]
    assert [d.stay.id for d in money.deposits_due(db.session, TODAY)] == [late.id, soon.id]
    with pytest.raises(MoneyError, match="not-late"):
        money.release(db.session, soon, actor=None, today=TODAY)
    money.release(db.session, late, actor=None, today=TODAY)
    db.session.commit()
    assert late.status == "cancelled" and money.deposits_past_due(db.session, TODAY) == []
    assert db.session.scalar(
        sa.select(sa.func.count()).where(
            TimelineEntry.body.like("%deposit not paid%") | TimelineEntry.body.like("%未付訂金%")
        )
    )


def test_income_for_the_month_counts_payments_less_refunds(room):
    stay = _book(room, TODAY + timedelta(20))
    _pay(stay, "deposit", 1200, day=date(2026, 11, 30))
    _pay(stay, "balance", 2800, method="card", digits="", day=date(2026, 12, 1))
    money.record_payment(db.session, stay, {"kind": "refund", "method": "cash",
                         "paid_on": date(2026, 12, 2), "amount": 500}, actor=None, today=TODAY)  # fmt: skip
    assert money.income_for_month(db.session, 2026, 11) == 1200
    assert money.income_for_month(db.session, 2026, 12) == 2300
    assert money.income_for_month(db.session, 2027, 1) == 0
