"""The saved-segment form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class SegmentForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=80)]
    )
    expression = TextAreaField(
        _l("Filter expression"),
        validators=[
            DataRequired(message=_l("Write a filter, e.g. tag:VIP and not tag:競爭對手.")),
            Length(max=2000),
        ],
    )
