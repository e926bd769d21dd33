"""Forms for an enquiry, its stage, a contact with the enquirer and the lost reasons."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Choice, DateInput, Number


def source_choices():
    return [
        ("phone", _l("Phone")), ("line", _l("LINE message")), ("walk_in", _l("Walked in")),
        ("web", _l("Web form")), ("referral", _l("Referred by someone")), ("other", _l("Other")),
    ]  # fmt: skip


def stage_words(kind: str) -> dict:
    """Stage names in the shop's terms (a homestay sends a quote, a centre offers a trial)."""
    return {
        "new": _l("New"),
        "contacted": _l("Contacted"),
        "trial": _l("Quote sent") if kind == "homestay" else _l("Trial class"),
        "won": _l("Won"),
        "lost": _l("Lost"),
    }


class EnquiryForm(FlaskForm):
    version = HiddenField()
    customer_id = HiddenField()
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter their name.")), Length(max=120)]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    source = Choice(_l("How they asked"), choices=source_choices, default="phone")
    wants = TextAreaField(_l("What they want, in their words"),
                          validators=[Optional(), Length(max=2000)])  # fmt: skip
    wanted_from = DateInput(_l("Arriving"), validators=[Optional()])
    wanted_to = DateInput(_l("Leaving"), validators=[Optional()])
    adults = Number(_l("Adults"), validators=[Optional(), NumberRange(min=0, max=50)])
    children = Number(_l("Children"), validators=[Optional(), NumberRange(min=0, max=50)])
    room_wanted = StringField(_l("Room they would like"), validators=[Optional(), Length(max=60)])
    child_grade = StringField(_l("Child's grade"), validators=[Optional(), Length(max=30)])
    start_month = DateInput(_l("Would start (month)"), validators=[Optional()])
    trial_on = DateInput(_l("Trial class on"), validators=[Optional()])
    budget = Number(
        _l("Budget NT$"), validators=[Optional(), NumberRange(min=0, max=100_000_000,
                                                              message=_l("From 0 to 100,000,000."))],
    )  # fmt: skip
    confidence = Number(
        _l("How sure (per cent)"), default=50,
        validators=[Optional(), NumberRange(min=0, max=100, message=_l("From 0 to 100."))],
    )  # fmt: skip
    expected_month = DateInput(_l("Expected in (month)"), validators=[Optional()])
    next_follow_up = DateInput(_l("Next follow-up"), validators=[Optional()])
    owner_id = Choice(_l("Looked after by"), choices=[], default="")

    def values(self) -> dict:
        names = ("name", "phone", "email", "source", "wants", "wanted_from", "wanted_to",
                 "adults", "children", "room_wanted", "child_grade", "start_month", "trial_on",
                 "budget", "confidence", "expected_month", "next_follow_up")  # fmt: skip
        found = {name: getattr(self, name).data for name in names}
        found["owner_id"] = int(self.owner_id.data) if self.owner_id.data else None
        found["customer_id"] = int(self.customer_id.data) if self.customer_id.data else None
        return found


class StageForm(FlaskForm):
    stage = Choice(_l("Stage"), choices=[])
    lost_reason_id = Choice(_l("Why it was lost"), choices=[], default="")
    lost_note = StringField(_l("In a few words"), validators=[Optional(), Length(max=200)])


class ContactForm(FlaskForm):
    channel = Choice(_l("How"), choices=source_choices, default="phone")
    note = TextAreaField(_l("What was said"), validators=[Optional(), Length(max=500)])
    next_follow_up = DateInput(_l("Next follow-up"), validators=[Optional()])


class HotForm(FlaskForm):
    hot = BooleanField(_l("Hot"))


class ReasonForm(FlaskForm):
    name = StringField(
        _l("Reason"), validators=[DataRequired(message=_l("Enter a reason.")), Length(max=60)]
    )


class EnrolForm(FlaskForm):
    """A centre's enquiry won: the class the child joins, from which day."""

    group = Choice(_l("Class"), choices=[])
    starts_on = DateInput(_l("Starts on"), validators=[Optional()])


class RhythmForm(FlaskForm):
    """The shop's follow-up rhythm for enquiries."""

    quiet_days = Number(
        _l("A hot enquiry comes back on My day after this many days without contact"),
        validators=[DataRequired(message=_l("From 1 to 60 days.")),
                    NumberRange(min=1, max=60, message=_l("From 1 to 60 days."))],
    )  # fmt: skip
    min_gap_hours = Number(
        _l("Warn when the shop gets back sooner than this many hours after the last time"),
        validators=[NumberRange(min=0, max=168, message=_l("From 0 to 168 hours (a week)."))],
    )  # fmt: skip
