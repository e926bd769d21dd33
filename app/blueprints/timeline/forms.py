"""Forms for writing and editing timeline entries and alerts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Choice, DateInput, TimeInput
from app.models.timeline import MAX_BODY_LENGTH


def kind_choices():
    """Notes and calls everywhere; stays and purchases where the shop has them."""
    from app.extensions import db
    from app.services.shop import record_kinds

    records = record_kinds(db.session)
    return [
        ("note", _l("Note")),
        ("call", _l("Call")),
        *([("visit", _l("Visit / stay"))] if "visit" in records else []),
        *([("purchase", _l("Purchase"))] if "purchase" in records else []),
    ]


def category_choices():
    return [
        ("allergy", _l("Allergy")),
        ("medical", _l("Medical")),
        ("diet", _l("Diet")),
        ("preference", _l("Preference")),
    ]


class BodyLength(Length):
    """Length check whose message says how long the text is."""

    def __call__(self, form, field):
        if field.data and len(field.data) > self.max:
            from wtforms.validators import ValidationError

            raise ValidationError(
                _l(
                    "At most %(max)d characters, please (this has %(length)d).",
                    max=self.max,
                    length=len(field.data),
                )
            )


class EntryForm(FlaskForm):
    kind = Choice(_l("Kind"), choices=kind_choices, default="note")
    body = TextAreaField(
        _l("New entry"),
        validators=[
            DataRequired(message=_l("Write something first.")),
            BodyLength(max=MAX_BODY_LENGTH),
        ],
    )
    # "I called her yesterday": when it happened, if earlier than now (empty: now).
    happened_on = DateInput(_l("Happened on"))
    happened_time = TimeInput(_l("At (time)"))


class EditEntryForm(FlaskForm):
    body = TextAreaField(
        _l("Text"),
        validators=[
            DataRequired(message=_l("Write something first.")),
            BodyLength(max=MAX_BODY_LENGTH),
        ],
    )


class AlertForm(FlaskForm):
    category = Choice(_l("Category"), choices=category_choices, default="allergy")
    keywords = StringField(
        _l("Keywords (comma separated, e.g. 花生, peanut)"),
        validators=[DataRequired(message=_l("Give at least one keyword.")), Length(max=200)],
    )
    body = TextAreaField(
        _l("What everyone must know"),
        validators=[
            DataRequired(message=_l("Write something first.")),
            BodyLength(max=MAX_BODY_LENGTH),
        ],
    )
