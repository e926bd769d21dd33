"""Closing a room for dates, and a booking site's calendar to subscribe to."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import Choice, DateInput


def room_choices():
    from app.extensions import db
    from app.services.stays import rooms

    return [(str(room.id), room.name) for room in rooms(db.session, active_only=True)]


class ClosureForm(FlaskForm):
    room_id = Choice(_l("Room"), choices=room_choices)
    starts_on = DateInput(
        _l("Closed from (first night)"), validators=[DataRequired(message=_l("Enter a date."))]
    )
    ends_on = DateInput(_l("Open again on"), validators=[DataRequired(message=_l("Enter a date."))])
    note = StringField(_l("Why (e.g. painting, repairs)"), validators=[Optional(), Length(max=200)])
    back = HiddenField(default="room")


class FeedForm(FlaskForm):
    name = StringField(
        _l("Booking site"),
        validators=[DataRequired(message=_l("Enter the booking site's name.")), Length(max=60)],
    )
    url = StringField(
        _l("Its calendar address (.ics)"),
        validators=[DataRequired(message=_l("Enter the address.")), Length(max=2000)],
    )
