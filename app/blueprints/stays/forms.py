"""Stay, phone booking, room change and room forms."""

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


def bookable_rooms():
    from app.extensions import db
    from app.services.stays import rooms

    return [("", _l("Choose a room"))] + [
        (str(r.id), _l("%(room)s (sleeps %(num)d)", room=r.name, num=r.capacity or 0))
        for r in rooms(db.session, active_only=True)
    ]


def occasion_choices():
    return [("", _l("None")), ("birthday", _l("Birthday")), ("anniversary", _l("Anniversary")),
            ("other", _l("Other (say what)"))]  # fmt: skip


class AgesField(StringField):
    """The children's ages as the desk types them ("6, 9"); a saved stay's list shown so."""

    def _value(self):
        if isinstance(self.data, list | tuple):
            return ", ".join(str(age) for age in self.data)
        return super()._value()


class OccasionFields:
    """The stay's party and occasion, shared by the stay form and the phone booking."""

    children_ages = AgesField(_l("Children's ages"), validators=[Optional(), Length(max=60)])
    preferences = StringField(
        _l("Room preferences (e.g. by the window, no coriander at breakfast)"),
        validators=[Optional(), Length(max=500)],
    )
    occasion = Choice(_l("Occasion"), choices=occasion_choices, default="")
    occasion_label = StringField(_l("What occasion"), validators=[Optional(), Length(max=60)])
    occasion_who = StringField(_l("Whose (e.g. the younger daughter)"),
                               validators=[Optional(), Length(max=60)])  # fmt: skip
    occasion_on = DateInput(_l("The occasion's day"), validators=[Optional()])

    def occasion_values(self) -> dict:
        return {
            "children_ages": self.children_ages.data or "", "preferences": self.preferences.data,
            "occasion": self.occasion.data or "", "occasion_label": self.occasion_label.data,
            "occasion_who": self.occasion_who.data, "occasion_on": self.occasion_on.data,
        }  # fmt: skip


class StayForm(OccasionFields, FlaskForm):
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
            **self.occasion_values(),
        }  # fmt: skip


class BookingForm(OccasionFields, FlaskForm):
    """The phone booking: a guest found or typed in, the room and nights, the party."""

    guest_id = Number(_l("Guest"), validators=[Optional()])
    enquiry_id = Number(_l("Enquiry"), validators=[Optional()])  # a won enquiry closes with it
    guest_name = StringField(_l("New guest's name"), validators=[Optional(), Length(max=120)])
    guest_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    guest_email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    room_id = Choice(_l("Room"), choices=bookable_rooms)
    check_in = DateInput(_l("Check-in"), validators=[DataRequired(message=_l("Enter a date."))])
    check_out = DateInput(_l("Check-out"), validators=[DataRequired(message=_l("Enter a date."))])
    adults = Number(
        _l("Adults"), default=2,
        validators=[Optional(), NumberRange(min=0, max=99, message=_l("From 0 to 99."))],
    )  # fmt: skip
    source = StringField(_l("Booked through (e.g. phone, Booking.com)"),
                         validators=[Optional(), Length(max=60)])  # fmt: skip
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])

    def values(self) -> dict:
        return {
            "guest_id": self.guest_id.data, "guest_name": self.guest_name.data,
            "guest_phone": self.guest_phone.data, "guest_email": self.guest_email.data,
            "room_id": int(self.room_id.data) if self.room_id.data else None,
            "check_in": self.check_in.data, "check_out": self.check_out.data,
            "adults": self.adults.data if self.adults.data is not None else 2,
            "source": self.source.data, "note": self.note.data, **self.occasion_values(),
            "enquiry_id": self.enquiry_id.data,
        }  # fmt: skip


class MoveForm(FlaskForm):
    """A room change mid-stay: from which night the rest of the stay is in which room."""

    room_id = Choice(_l("New room"), choices=bookable_rooms)
    from_day = DateInput(_l("From the night of"),
                         validators=[DataRequired(message=_l("Enter a date."))])  # fmt: skip


class RoomForm(FlaskForm):
    name = StringField(
        _l("Room name"),
        validators=[DataRequired(message=_l("Enter the room's name.")), Length(max=60)],
    )
    active = BooleanField(_l("In use"), default=True)
    capacity = Number(
        _l("Sleeps (people)"), default=2,
        validators=[Optional(), NumberRange(min=1, max=99, message=_l("From 1 to 99."))],
    )  # fmt: skip


WEEKDAYS = [("1", _l("Mon")), ("2", _l("Tue")), ("3", _l("Wed")), ("4", _l("Thu")),
            ("5", _l("Fri")), ("6", _l("Sat")), ("7", _l("Sun"))]  # fmt: skip


class EnrolmentForm(FlaskForm):
    group = StringField(_l("Group or class"), validators=[Optional(), Length(max=60)])
    starts_on = DateInput(_l("From"), validators=[DataRequired(message=_l("Enter a date."))])
    ends_on = DateInput(_l("Until (empty: no end yet)"), validators=[Optional()])
    weekdays = Checkboxes(
        _l("Days of the week"), choices=WEEKDAYS, default=["1", "2", "3", "4", "5"]
    )
