"""Stay and room forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Checkboxes, Choice, DateInput, Number


def status_choices():
    from app.services.stays import status_label

    return [
        (status, status_label(status)) for status in ("booked", "stayed", "cancelled", "no_show")
    ]


def room_choices():
    from app.extensions import db
    from app.services.stays import rooms

    return [("", _l("No room chosen"))] + [(str(r.id), r.name) for r in rooms(db.session)]


class StayForm(FlaskForm):
    room_id = Choice(_l("Room"), choices=room_choices)
    check_in = DateInput(_l("Check-in"), validators=[DataRequired(message=_l("Enter a date."))])
    check_out = DateInput(_l("Check-out"), validators=[DataRequired(message=_l("Enter a date."))])
    status = Choice(_l("Status"), choices=status_choices, default="booked")
    adults = Number(
        _l("Adults"), default=2,
        validators=[Optional(), NumberRange(min=0, max=99, message=_l("From 0 to 99."))],
    )  # fmt: skip
    children = Number(
        _l("Children"), default=0,
        validators=[Optional(), NumberRange(min=0, max=99, message=_l("From 0 to 99."))],
    )  # fmt: skip
    amount = Number(
        _l("Amount (NT$)"),
        validators=[Optional(), NumberRange(min=0, max=100_000_000,
                                            message=_l("From 0 to 100,000,000."))],
    )  # fmt: skip
    deposit = Number(
        _l("Deposit (NT$)"),
        validators=[Optional(), NumberRange(min=0, max=100_000_000,
                                            message=_l("From 0 to 100,000,000."))],
    )  # fmt: skip
    source = StringField(_l("Booked through (e.g. phone, Booking.com)"),
                         validators=[Optional(), Length(max=60)])  # fmt: skip
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])

    def values(self) -> dict:
        return {
            "room_id": int(self.room_id.data) if self.room_id.data else None,
            "check_in": self.check_in.data, "check_out": self.check_out.data,
            "status": self.status.data, "adults": self.adults.data if self.adults.data is not None else 0,
            "children": self.children.data or 0, "amount": self.amount.data or 0,
            "deposit": self.deposit.data or 0, "source": self.source.data, "note": self.note.data,
        }  # fmt: skip


class RoomForm(FlaskForm):
    name = StringField(
        _l("Room name"),
        validators=[DataRequired(message=_l("Enter the room's name.")), Length(max=60)],
    )
    active = BooleanField(_l("In use"), default=True)


WEEKDAYS = [("1", _l("Mon")), ("2", _l("Tue")), ("3", _l("Wed")), ("4", _l("Thu")),
            ("5", _l("Fri")), ("6", _l("Sat")), ("7", _l("Sun"))]  # fmt: skip


class EnrolmentForm(FlaskForm):
    group = StringField(_l("Group or class"), validators=[Optional(), Length(max=60)])
    starts_on = DateInput(_l("From"), validators=[DataRequired(message=_l("Enter a date."))])
    ends_on = DateInput(_l("Until (empty: no end yet)"), validators=[Optional()])
    weekdays = Checkboxes(
        _l("Days of the week"), choices=WEEKDAYS, default=["1", "2", "3", "4", "5"]
    )
