"""The calendar grid, closures and clashes, built from real rows (no HTTP)."""

from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import RoomBlock, RoomFeed
from app.services.rooms import blocks as block_service
from app.services.rooms import calendar as calendar_service
from tests.factories import make_alert, make_customer
from tests.rooms.conftest import book

D = date(2026, 12, 20)


def _row(grid, name):
    return next(row for row in grid.rows if row.room.name == name)


def _bars(row):
    return [item for lane in row.lanes for item in lane if item.is_bar]


def _free_days(row):
    return [item.day for item in row.lanes[0] if not item.is_bar and item.free]


def test_a_month_across_the_new_year_with_stays_cut_at_both_edges(app, homestay):
    room = homestay["2號房"]
    before = book(make_customer("林美華"), room, D - timedelta(days=3), D + timedelta(days=2))
    new_year = book(make_customer("陳先生"), room, date(2026, 12, 30), date(2027, 1, 2))
    after = book(make_customer("王小明"), room, date(2027, 1, 18), date(2027, 1, 25))
    grid = calendar_service.build_grid(db.session, D, 31, today=D)
    assert grid.end == date(2027, 1, 20) and len(grid.days) == 31
    assert [day.day for day in grid.days][:2] == [D, D + timedelta(days=1)]
    bars = {bar.stay.id: bar for bar in _bars(_row(grid, "2號房"))}
    assert (bars[before.id].first_column, bars[before.id].span) == (D, 2)
    assert bars[before.id].clipped_before and not bars[before.id].clipped_after
    assert bars[before.id].nights == 5  # the whole stay, not only what shows
    assert (bars[new_year.id].first_column, bars[new_year.id].span) == (date(2026, 12, 30), 3)
    assert (bars[after.id].span, bars[after.id].clipped_after) == (2, True)
    # Every column is in exactly one item of the lane: 2 + 3 + 2 bar nights, 24 free nights.
    lane = _row(grid, "2號房").lanes[0]
    assert sum(item.span if item.is_bar else 1 for item in lane) == 31
    free = _free_days(_row(grid, "2號房"))
    assert len(free) == 24 and date(2026, 12, 29) in free and date(2026, 12, 30) not in free
    assert all(cell.next_day == cell.day + timedelta(days=1) for cell in lane if not cell.is_bar)


def test_cancelled_and_no_show_stays_are_not_drawn_and_rooms_sort_naturally(app, homestay):
    room = homestay["1號房"]
    book(make_customer("取消"), room, D, D + timedelta(days=2), status="cancelled")
    book(
        make_customer("沒來"), room, D - timedelta(days=5), D + timedelta(days=1), status="no_show"
    )
    stayed = book(make_customer("住過"), room, D - timedelta(days=1), D + timedelta(days=1),
                  status="stayed")  # fmt: skip
    homestay["10號房"].active = False
    db.session.commit()
    grid = calendar_service.build_grid(db.session, D, 14, today=D)
    assert [row.room.name for row in grid.rows] == ["1號房", "2號房"]
    assert [bar.stay.id for bar in _bars(_row(grid, "1號房"))] == [stayed.id]
    assert len(_free_days(_row(grid, "1號房"))) == 13


def test_closures_and_booking_site_blocks_are_bars_with_their_source(app, homestay):
    room = homestay["2號房"]
    feed = RoomFeed(room_id=room.id, name="Booking.com", url="https://example.com/a.ics")
    db.session.add(feed)
    db.session.flush()
    db.session.add_all([
        RoomBlock(room_id=room.id, starts_on=D + timedelta(days=1), ends_on=D + timedelta(days=3),
                  kind="closed", note="油漆"),
        RoomBlock(room_id=room.id, starts_on=D + timedelta(days=5), ends_on=D + timedelta(days=6),
                  kind="ota", feed_id=feed.id, uid="x@booking"),
    ])  # fmt: skip
    db.session.commit()
    grid = calendar_service.build_grid(db.session, D, 14, today=D)
    bars = _bars(_row(grid, "2號房"))
    assert [(bar.kind, bar.span, bar.source) for bar in bars] == [
        ("closed", 2, ""), ("ota", 1, "Booking.com")
    ]  # fmt: skip
    assert bars[0].block.note == "油漆"
    assert len(_free_days(_row(grid, "2號房"))) == 11


def test_an_overlap_gets_a_lane_of_its_own_and_no_night_under_it_is_free(app, homestay):
    room = homestay["2號房"]
    book(make_customer("甲"), room, D, D + timedelta(days=2))
    feed = RoomFeed(room_id=room.id, name="Airbnb", url="https://example.com/b.ics")
    db.session.add(feed)
    db.session.flush()
    db.session.add(RoomBlock(room_id=room.id, starts_on=D + timedelta(days=1),
                             ends_on=D + timedelta(days=4), kind="ota", feed_id=feed.id))  # fmt: skip
    db.session.commit()
    row = _row(calendar_service.build_grid(db.session, D, 14, today=D), "2號房")
    assert len(row.lanes) == 2
    assert [bar.kind for bar in _bars(row)] == ["stay", "ota"]
    free = _free_days(row)
    assert D + timedelta(days=2) not in free and D + timedelta(days=3) not in free
    assert D + timedelta(days=4) in free


def test_alerts_of_the_guest_come_with_the_bar(app, homestay):
    guest = make_customer("王小明")
    make_alert(guest)
    book(guest, homestay["2號房"], D, D + timedelta(days=2))
    bar = _bars(_row(calendar_service.build_grid(db.session, D, 14, today=D), "2號房"))[0]
    assert [alert.alert_category for alert in bar.alerts] == ["allergy"]


@pytest.mark.parametrize(
    "start, days, code",
    [("2026-02-30", None, "start"), ("yesterday", "14", "start"), ("1990-01-01", None,
     "start-range"), (None, "20", "days"), (None, "-14", "days"), (None, "abc", "days")],
)  # fmt: skip
def test_a_window_that_is_not_two_weeks_or_a_month_is_refused(start, days, code):
    with pytest.raises(calendar_service.CalendarError) as caught:
        calendar_service.window(start, days, D)
    assert caught.value.code == code


def test_the_window_defaults_to_two_weeks_from_today():
    assert calendar_service.window(None, None, D) == (D, 14)
    assert calendar_service.window("2027-01-01", "31", D) == (date(2027, 1, 1), 31)


def test_closing_a_room_is_refused_over_a_booking_and_reopening_frees_it(app, homestay):
    room = homestay["2號房"]
    book(make_customer("王小明"), room, D, D + timedelta(days=2))
    book(make_customer("取消"), room, D + timedelta(days=5), D + timedelta(days=6),
         status="cancelled")  # fmt: skip
    with pytest.raises(block_service.BlockError) as caught:
        block_service.close_room(db.session, room, D + timedelta(days=1), D + timedelta(days=3),
                                 "", actor=None, today=D)  # fmt: skip
    assert caught.value.code == "booked" and "王小明" in caught.value.detail
    # Touching the booking's last morning is fine; so is a cancelled booking.
    block = block_service.close_room(db.session, room, D + timedelta(days=2),
                                     D + timedelta(days=7), " 換 地板 ", actor=None, today=D)  # fmt: skip
    db.session.commit()
    assert block.note == "換 地板" and block.nights == 5
    overlapping = block_service.blocks_overlapping
    assert overlapping(db.session, room.id, D, D + timedelta(days=2)) == []
    assert overlapping(db.session, room.id, D + timedelta(days=6), D + timedelta(days=9)) == [block]
    assert overlapping(db.session, room.id, D + timedelta(days=7), D + timedelta(days=8)) == []
    assert overlapping(db.session, homestay["1號房"].id, D, D + timedelta(days=30)) == []
    block_service.reopen(db.session, block)
    db.session.commit()
    assert overlapping(db.session, room.id, D, D + timedelta(days=30)) == []


@pytest.mark.parametrize(
    "first, until, note, code",
    [(D, D, "", "ends-first"), (D, D - timedelta(days=1), "", "ends-first"),
     (D, D + timedelta(days=367), "", "too-long"), (None, D, "", "dates"),
     (D, D + timedelta(days=1), "x" * 201, "note-long"),
     (date(2000, 1, 1), date(2000, 1, 2), "", "date-range")],
)  # fmt: skip
def test_bad_closures_are_refused_and_nothing_is_saved(app, homestay, first, until, note, code):
    with pytest.raises(block_service.BlockError) as caught:
        block_service.close_room(db.session, homestay["2號房"], first, until, note, actor=None,
                                 today=D)  # fmt: skip
    assert caught.value.code == code
    db.session.rollback()
    assert db.session.query(RoomBlock).count() == 0


def test_a_booking_site_block_cannot_be_reopened_by_hand(app, homestay):
    block = RoomBlock(room_id=homestay["2號房"].id, starts_on=D, ends_on=D + timedelta(days=1),
                      kind="ota")  # fmt: skip
    db.session.add(block)
    db.session.commit()
    with pytest.raises(block_service.BlockError):
        block_service.reopen(db.session, block)


def test_clashes_list_blocks_over_our_stays_that_have_not_ended(app, homestay):
    room, other = homestay["2號房"], homestay["1號房"]
    feed = RoomFeed(room_id=room.id, name="Airbnb", url="https://example.com/c.ics")
    db.session.add(feed)
    db.session.flush()
    guest = book(make_customer("王小明"), room, D + timedelta(days=3), D + timedelta(days=5))
    book(make_customer("過去"), room, D - timedelta(days=10), D - timedelta(days=8))
    book(make_customer("取消"), other, D, D + timedelta(days=2), status="cancelled")
    db.session.add_all([
        RoomBlock(room_id=room.id, starts_on=D + timedelta(days=4), ends_on=D + timedelta(days=6),
                  kind="ota", feed_id=feed.id),
        RoomBlock(room_id=room.id, starts_on=D - timedelta(days=9), ends_on=D - timedelta(days=7),
                  kind="ota", feed_id=feed.id),  # over a stay long gone
        RoomBlock(room_id=other.id, starts_on=D, ends_on=D + timedelta(days=2), kind="ota",
                  feed_id=feed.id),  # over a cancelled stay: no clash
        RoomBlock(room_id=room.id, starts_on=D + timedelta(days=5), ends_on=D + timedelta(days=6),
                  kind="ota", feed_id=feed.id),  # starts the morning the guest leaves
    ])  # fmt: skip
    db.session.commit()
    found = block_service.clashes(db.session, D)
    assert [(c.stay.id, c.source, c.first_night) for c in found] == [
        (guest.id, "Airbnb", D + timedelta(days=4))
    ]
