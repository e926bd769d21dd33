"""The compose form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class ComposeForm(FlaskForm):
    subject = StringField(
        _l("Subject"), validators=[DataRequired(message=_l("Write a subject.")), Length(max=200)]
    )
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(message=_l("Write the message.")), Length(max=20000)],
    )
    audience = HiddenField()
    segment_id = HiddenField()
