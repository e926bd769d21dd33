"""Forms for reminders by hand and for reminder rules."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import Checkboxes, Choice, DateInput, Number
from app.vocabulary import shop_term


class ReminderForm(FlaskForm):
    text = StringField(
        _l("What to do"),
        validators=[
            DataRequired(message=_l("Write what needs doing.")),
            Length(max=300, message=_l("At most 300 characters, please.")),
        ],
    )
    due_date = DateInput(
        _l("When"),
        validators=[
            InputRequired(message=_l("Enter a real date (year-month-day), e.g. 2018-02-28."))
        ],
    )
    assignee_id = Choice(_l("Who"), choices=[], validate_choice=True)
    submit = SubmitField(_l("Add reminder"))


class QuickNoteForm(FlaskForm):
    body = TextAreaField(
        _l("Note"),
        validators=[
            DataRequired(message=_l("Write something first.")),
            Length(max=5000, message=_l("At most 5000 characters, please.")),
        ],
    )


class RuleForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter a name.")),
            Length(max=80, message=_l("At most 80 characters, please.")),
        ],
    )
    kind = Choice(
        _l("Remind when"),
        choices=[
            ("birthday", _l("A birthday is coming (in N days)")),
            ("important_date", _l("An important date is coming (in N days)")),
            ("no_contact", _l("No contact for N days")),
            ("lapsed", _l("No visit for N days (lapsed regulars)")),
            ("return", _l("N days after the last visit or purchase")),
        ],
    )
    days = Number(
        _l("N (days)"),
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=0, max=3650, message=_l("Between 0 and 3650 days.")),
        ],
    )
    segment_id = Choice(
        LazyString(lambda: _("Only %(people)s in this segment", people=shop_term("people"))),
        choices=[],
    )
    tag_id = Choice(
        LazyString(lambda: _("Only %(people)s with this tag", people=shop_term("people"))),
        choices=[],
    )
    levels = Checkboxes(
        _l("Only these levels"),
        choices=[("A", "A"), ("B", "B"), ("C", "C")],
        validate_choice=True,
    )
    include_family = BooleanField(_l("Also family members' birthdays (e.g. the child's)"))
    entry_kind = Choice(
        _l("Last what"),
        choices=[("", "—"), ("visit", _l("Visit / stay")), ("purchase", _l("Purchase"))],
    )
    keyword = StringField(
        _l("Only entries mentioning"),
        validators=[Optional(), Length(max=60, message=_l("At most 60 characters, please."))],
    )
    assignee_id = Choice(_l("Remind"), choices=[])
    action = StringField(
        _l("Suggested action"),
        validators=[Optional(), Length(max=200, message=_l("At most 200 characters, please."))],
    )
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save rule"))
