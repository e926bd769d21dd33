"""A stays history sheet (the paper guest book typed into a spreadsheet): each line checked
like a stay typed in, its room free those nights (against kept stays and the sheet's own
earlier lines), then saved through save_stay (the same gate)."""

from datetime import date

from sqlalchemy.orm import Session

from app.models import Room
from app.services.importer.history import HistoryLine, HistorySpec, day_or_none
from app.services.stays import (
    StayError,
    check,
    clash_for,
    describe_booking,
    rooms,
    save_room,
    save_stay,
)

# ---- a stays history sheet (the paper guest book, typed into a spreadsheet) ------------------

STAY_HISTORY_COLUMNS = {
    "member_number": ["會員編號", "會員號碼", "編號", "membernumber", "memberno", "member"],
    "name": ["姓名", "房客", "客人", "name", "guest"],
    "check_in": ["入住", "入住日", "入住日期", "checkin", "arrival", "from"],
    "check_out": ["退房", "退房日", "退房日期", "checkout", "departure", "to"],
    "room": ["房間", "房號", "房型", "room"],
    "adults": ["大人", "成人", "adults"],
    "children": ["小孩", "兒童", "children", "kids"],
    "amount": ["金額", "房費", "amount", "price", "total"],
    "note": ["備註", "note", "notes", "memo"],
}
MAX_STAY_HISTORY_ROWS = 5_000


class _SheetRooms(dict):
    """Rooms by lower-case name, and the nights the sheet's own lines already take."""

    def __init__(self, session: Session):
        super().__init__({room.name.lower(): room for room in rooms(session)})
        self.session = session
        self.taken: dict[str, list[tuple[date, date, int]]] = {}


def _history_clash(line: HistoryLine, known: _SheetRooms) -> None:
    """A line whose room is taken those nights: by a stay already kept, or by an earlier line."""
    values = line.values
    name = " ".join(values["room"].split()).lower()
    if not name:
        return
    for check_in, check_out, number in known.taken.get(name, []):
        if check_in < values["check_out"] and values["check_in"] < check_out:
            line.errors.append(("clash-line", str(number)))
            return
    room = known.get(name)
    other = room and clash_for(known.session, room.id, values["check_in"], values["check_out"])
    if other:
        line.errors.append(("clash", describe_booking(other)))
        return
    known.taken.setdefault(name, []).append((values["check_in"], values["check_out"], line.number))


def _check_history_line(line: HistoryLine, known: _SheetRooms, today: date) -> None:
    """Checked like a stay typed in by hand (status: stayed; a room by its name, free)."""
    values = line.values
    values["check_in"] = day_or_none(values["check_in"])
    values["check_out"] = day_or_none(values["check_out"])
    for key, default in (("adults", 2), ("children", 0), ("amount", 0)):
        text = values[key].replace(",", "")
        values[key] = int(text) if text.isdigit() else (default if not text else text)
    if len(values["room"]) > 60:
        line.errors.append(("room", values["room"][:60]))
    try:
        check({**values, "status": "stayed", "deposit": 0, "source": "", "room_id": None},
              today)  # fmt: skip
    except StayError as error:
        line.errors.append((error.code, ""))
    else:
        _history_clash(line, known)


def _rooms_by_name(session: Session) -> _SheetRooms:
    return _SheetRooms(session)


def _save_history_line(
    session: Session, line: HistoryLine, known: dict[str, Room], *, actor, today, zone
) -> None:
    """A room named in the sheet is created when new (and known for the next lines). The
    room's nights go through the same gate as a stay typed in (save_stay)."""
    room = None
    name = " ".join(line.values["room"].split())
    if name:
        room = known.get(name.lower()) or save_room(session, None, name)
        known[room.name.lower()] = room
    values = {**line.values, "status": "stayed", "room_id": room.id if room else None,
              "deposit": 0, "source": ""}  # fmt: skip
    save_stay(session, line.customer, None, values, actor=actor, today=today, zone=zone)


STAY_HISTORY = HistorySpec(
    kind="stays",
    columns=STAY_HISTORY_COLUMNS,
    required=("check_in", "check_out"),
    max_rows=MAX_STAY_HISTORY_ROWS,
    check_line=_check_history_line,
    save_line=_save_history_line,
    lookup=_rooms_by_name,
)
