"""A homestay's guest book imported with its stays: the columns guessed in both languages,
stays checked (dates, rooms, clashes in the sheet and with bookings), written with the
customers all or nothing, several rows of one guest as one guest, and undone with the batch."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Customer, ImportantDate, ImportBatch, ImportChange, Room, Stay, TimelineEntry
from app.services import importer
from app.services import stays as stay_service
from tests.factories import make_customer
from tests.services.test_importer import xlsx

HEADER = ["姓名", "電話", "入住日期", "退房日期", "房間", "金額"]


def rooms(*names: str) -> dict[str, Room]:
    made = {name: Room(name=name) for name in names}
    db.session.add_all(made.values())
    db.session.commit()
    return made


def batch_for(sheet: importer.Sheet, mode="create_and_update", **kwargs) -> ImportBatch:
    batch = ImportBatch(
        filename="guest-book.xlsx",
        kind="xlsx",
        mapping=importer.guess_mapping(sheet.header, [], stays=True),
        mode=mode,
        total_rows=len(sheet.rows),
        **kwargs,
    )
    db.session.add(batch)
    db.session.commit()
    return batch


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def errors_of(plan) -> dict[int, list[str]]:
    return {row.number: [code for _target, code in row.errors] for row in plan.rows if row.errors}


def test_guest_book_headers_are_stays_in_both_languages_and_never_important_dates():
    chinese = ["姓名", "電話", "入住日期", "退房日期", "房號", "房價", "住幾晚"]
    assert importer.guess_mapping(chinese, [], stays=True) == {
        "0": "display_name",
        "1": "phone",
        "2": "stay_check_in",
        "3": "stay_check_out",
        "4": "stay_room",
        "5": "stay_amount",
        "6": "stay_nights",
    }
    english = ["Name", "Email", "Check-in", "Nights", "Room", "Amount"]
    assert importer.guess_mapping(english, [], stays=True) == {
        "0": "display_name",
        "1": "email",
        "2": "stay_check_in",
        "3": "stay_nights",
        "4": "stay_room",
        "5": "stay_amount",
    }
    odd = ["姓名", "入住日期（年/月/日）", "退房日 (yyyy/mm/dd)", "結婚紀念日"]
    mapping = importer.guess_mapping(odd, [], stays=True)
    assert mapping == {
        "0": "display_name",
        "1": "stay_check_in",
        "2": "stay_check_out",
        "3": "date:結婚紀念日",
    }
    # Without a check-in column, an amount or a room column is nobody's stay.
    assert importer.guess_mapping(["姓名", "金額", "房間"], [], stays=True) == {"0": "display_name"}
    # An after-school centre's import is as it was: a dated column is an important date.
    assert importer.guess_mapping(["姓名", "入住日期"], []) == {
        "0": "display_name",
        "1": "date:入住日期",
    }


def test_a_guest_book_xlsx_makes_guests_with_their_stays_and_no_important_dates(app):
    made = rooms("山景雙人房", "海景四人房")
    data = xlsx(
        [
            HEADER,
            ["陳怡君", "0912-345-678", "2025/12/24", "2025/12/26", "山景雙人房", "NT$6,400"],
            ["林柏瑄", "0922-000-111", "114/1/10", "114/1/11", "海景四人房", 3800],
            ["陳怡君", "0912345678", "2026-02-14", "2026-02-15", "海景四人房", "3800元"],
        ]
    )
    sheet = importer.read_sheet(data, "xlsx")
    batch = batch_for(sheet)
    plan = importer.plan(db.session, batch, sheet)
    assert plan.counts["new"] == 2 and plan.counts["stays"] == 3 and plan.counts["stay_rows"] == 1
    assert plan.rows[2].outcome == "stay" and plan.rows[2].lead == 2
    assert count(Stay) == 0  # the dry run writes nothing

    counts = importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    assert counts["stays"] == 3
    chen = db.session.scalar(sa.select(Customer).where(Customer.display_name == "陳怡君"))
    assert count(Customer) == 2 and count(ImportantDate) == 0
    stays = stay_service.guest_stays(db.session, chen.id)
    assert [(s.check_in, s.check_out, s.room_id, s.amount, s.status) for s in stays] == [
        (date(2026, 2, 14), date(2026, 2, 15), made["海景四人房"].id, 3800, "stayed"),
        (date(2025, 12, 24), date(2025, 12, 26), made["山景雙人房"].id, 6400, "stayed"),
    ]
    figures = stay_service.figures(db.session, chen.id)
    assert (figures.stays, figures.nights, figures.spend) == (2, 3, 10200)
    assert chen.last_visit_at.date() == date(2026, 2, 14)
    lines = db.session.scalars(
        sa.select(TimelineEntry.body).where(TimelineEntry.customer_id == chen.id)
    ).all()
    assert any("山景雙人房" in line and "2025-12-24" in line for line in lines)


def test_a_csv_with_nights_and_a_future_booking(app):
    rooms("101")
    later = date.today() + timedelta(days=30)
    text = f"Name,Email,Arrival,Nights,Room\nAmy Chen,amy@example.com,{later:%Y/%m/%d},3,101\n"
    sheet = importer.read_sheet(text.encode(), "csv")
    batch = batch_for(sheet)
    importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    stay = db.session.scalar(sa.select(Stay))
    assert (stay.check_in, stay.nights, stay.status) == (later, 3, "booked")
    assert stay.customer.last_visit_at is None  # not been yet


def test_bad_rows_are_explained_and_refuse_the_whole_import(app):
    rooms("101", "102")
    make_customer("老客人", phone="0933-000-000")
    booked = db.session.scalar(sa.select(Customer).where(Customer.display_name == "老客人"))
    db.session.add(Stay(customer_id=booked.id, room_id=db.session.scalar(
        sa.select(Room.id).where(Room.name == "102")), check_in=date(2025, 5, 1),
        check_out=date(2025, 5, 4), status="stayed"))  # fmt: skip
    db.session.commit()
    rows = [
        ["好客人", "0911-000-001", "2025/3/1", "2025/3/2", "101", "2000"],
        ["退房在前", "0911-000-002", "2025/3/5", "2025/3/4", "101", ""],
        ["壞日期", "0911-000-003", "2025/13/5", "", "101", ""],
        ["沒有的房", "0911-000-004", "2025/3/8", "2025/3/9", "205", ""],
        ["同房同晚", "0911-000-005", "2025/3/1", "2025/3/3", "101", ""],
        ["已有人住", "0911-000-006", "2025/5/3", "2025/5/5", "102", ""],
        ["金額怪", "0911-000-007", "2025/6/1", "2025/6/2", "101", "很多"],
        ["壞日期", "0911-000-003", "2025/7/1", "2025/7/2", "101", ""],
    ]
    sheet = importer.Sheet(HEADER, rows)
    batch = batch_for(sheet)
    plan = importer.plan(db.session, batch, sheet)
    assert errors_of(plan) == {
        3: ["stay-check-out-first"],
        4: ["bad-date"],
        5: ["stay-unknown-room"],
        6: ["stay-clash-row:2"],
        7: ["stay-clash:老客人 2025-05-01→2025-05-04"],
        8: ["bad-money"],
        9: ["stay-lead-error:4"],
    }
    before = (count(Customer), count(Stay), count(TimelineEntry))
    with pytest.raises(importer.ImportProblem):
        importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.rollback()
    assert (count(Customer), count(Stay), count(TimelineEntry)) == before
    # Skipping the rows with errors imports the good one (and its stay) only.
    batch.skip_errors = True
    db.session.commit()
    counts = importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    assert (counts["new"], counts["stays"], counts["errors"]) == (1, 1, 7)
    assert count(Stay) == before[1] + 1


def test_an_existing_guest_gets_the_stays_and_a_second_import_adds_none(app):
    rooms("101")
    guest = make_customer("老客人", email="old@example.com")
    sheet = importer.Sheet(
        ["姓名", "Email", "入住", "退房", "房間"],
        [["老客人", "old@example.com", "2025/8/1", "2025/8/3", "101"],
         ["", "old@example.com", "2025/9/1", "2025/9/2", "101"]],
    )  # fmt: skip
    batch = batch_for(sheet)
    counts = importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    assert (counts["new"], counts["updated"], counts["stays"]) == (0, 1, 2)
    assert len(stay_service.guest_stays(db.session, guest.id)) == 2
    again = batch_for(sheet)
    plan = importer.plan(db.session, again, sheet)
    assert (plan.counts["unchanged"], plan.counts["stays"], plan.counts["errors"]) == (2, 0, 0)
    # Only new guests: an existing guest's stays are left alone too.
    only_new = batch_for(
        importer.Sheet(sheet.header, [["老客人", "old@example.com", "2025/10/1", "", "101"]]),
        mode="create_only",
    )
    assert importer.plan(db.session, only_new, sheet).counts["stays"] == 0


def test_undo_takes_the_stays_back_with_the_batch(app):
    rooms("101")
    guest = make_customer("老客人", email="old@example.com")
    old_visit = guest.last_visit_at
    sheet = importer.Sheet(
        ["姓名", "Email", "入住", "退房", "房間"],
        [["老客人", "old@example.com", "2025/8/1", "2025/8/3", "101"],
         ["新客人", "new@example.com", "2025/8/3", "2025/8/4", "101"]],
    )  # fmt: skip
    batch = batch_for(sheet)
    importer.run_import(db.session, batch, sheet, actor_id=None)
    batch.status = "done"
    db.session.commit()
    assert count(Stay) == 2 and count(ImportChange) == 4  # created, updated, two "stays"
    result = importer.undo(db.session, batch)
    db.session.commit()
    assert result == {"removed": 1, "restored": 1, "stays": 2}
    assert count(Stay) == 0
    db.session.refresh(guest)
    assert guest.last_visit_at == old_visit
    assert not db.session.scalars(
        sa.select(TimelineEntry).where(TimelineEntry.action == "stay")
    ).all()
