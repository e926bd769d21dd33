"""The history-sheet engine (app/services/importer/history.py) with the two kinds it drives:
past purchases and past stays, checked whole and saved all or none."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Purchase, Stay
from app.services import purchases, stays
from app.services.importer import history
from tests.factories import make_customer

TODAY = date(2026, 11, 24)
PURCHASE_HEADER = ["會員編號", "姓名 Name", "日期", "產品", "數量", "單價", "備註"]
STAY_HEADER = ["姓名", "Check-in", "退房日期", "房間", "大人", "小孩", "金額", "備註"]


def test_columns_are_found_by_any_of_their_words_and_the_first_title_wins():
    mapping = history.column_mapping(
        purchases.HISTORY_COLUMNS, ["Member No.", "顧客 Customer", "Date", "日期", "商品"]
    )
    assert mapping == {"member_number": 0, "name": 1, "day": 2, "product": 4}


def test_a_sheet_without_its_columns_names_what_is_missing(app):
    lines, missing = history.check(
        purchases.PURCHASE_HISTORY, db.session, ["備註", "數量"], [["a", "1"]], TODAY
    )
    assert lines == [] and missing == ["day", "product", "member_number"]
    _lines, missing = history.check(stays.STAY_HISTORY, db.session, ["姓名"], [], TODAY)
    assert missing == ["check_in", "check_out"]


def test_too_many_lines_are_refused_before_any_is_checked(app):
    rows = [["M1", "", "2024-01-01", "茶"]] * (purchases.MAX_HISTORY_ROWS + 1)
    with pytest.raises(history.TooManyLines) as refused:
        history.check(purchases.PURCHASE_HISTORY, db.session, PURCHASE_HEADER, rows, TODAY)
    assert refused.value.limit == purchases.MAX_HISTORY_ROWS


def test_purchase_lines_are_checked_then_saved_all_together(app):
    tea = purchases.save_product(db.session, None, name="普洱茶", price=1200, points=30)
    chen = make_customer("陳小姐", member_number="M0007")
    db.session.commit()
    rows = [
        ["M0007", "", "2024/3/5", " 普洱茶 ", "1,000", "", "紙本"],
        ["", "", "", "", "", "", ""],  # empty: skipped
        ["", "王太太", "2024-13-01", "咖啡", "0", "x", "n" * 501],
    ]
    lines, missing = history.check(
        purchases.PURCHASE_HISTORY, db.session, PURCHASE_HEADER, rows, TODAY
    )
    assert missing == [] and [line.number for line in lines] == [2, 4]
    good, bad = lines
    assert good.errors == [] and good.customer.id == chen.id
    assert good.values["product"].id == tea.id and good.values["day"] == date(2024, 3, 5)
    assert (good.values["quantity"], good.values["unit_price"]) == (1000, 1200)
    assert [code for code, _value in bad.errors] == [
        "customer", "product", "date", "quantity", "unit_price", "note-long",
    ]  # fmt: skip
    added = history.save(
        purchases.PURCHASE_HISTORY, db.session, [good], actor=None, today=TODAY, zone="UTC"
    )
    db.session.commit()
    assert added == 1
    assert db.session.execute(sa.select(Purchase.quantity, Purchase.note)).all() == [(1000, "紙本")]


def test_stay_lines_are_checked_like_stays_and_new_rooms_are_added(app):
    guest = make_customer("林美華")
    db.session.commit()
    rows = [
        ["林美華", "2019/4/1", "2019/4/3", "閣樓房", "", "", "5,200", ""],
        ["林美華", "108/10/10", "108/10/11", " 閣樓房", "1", "1", "", "紙本"],
        ["林美華", "2021/5/3", "2021/5/1", "房" * 61, "", "", "", ""],
    ]
    lines, _missing = history.check(stays.STAY_HISTORY, db.session, STAY_HEADER, rows, TODAY)
    first, second, bad = lines
    assert first.errors == [] and second.errors == []
    assert (first.values["adults"], first.values["children"], first.values["amount"]) == (
        2, 0, 5200,
    )  # fmt: skip
    assert bad.errors == [("room", "房" * 60), ("check-out-first", "")]
    history.save(
        stays.STAY_HISTORY, db.session, [first, second], actor=None, today=TODAY, zone="UTC"
    )
    db.session.commit()
    assert [room.name for room in stays.rooms(db.session)] == ["閣樓房"]  # made once
    assert stays.figures(db.session, guest.id).stays == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stay)) == 2
