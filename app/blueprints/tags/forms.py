"""Forms for managing tags."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.blueprints.customers.forms import colour_choices
from app.forms import Choice


class RenameTagForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=60)]
    )


class RecolourTagForm(FlaskForm):
    colour = Choice(_l("Colour"), choices=colour_choices)


class MergeTagForm(FlaskForm):
    # No tag is chosen for you: the first option asks.
    target = Choice(_l("Merge into"), choices=[])


class NewTagForm(FlaskForm):
    name = StringField(
        _l("New tag"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=60)]
    )
    colour = Choice(_l("Colour"), choices=colour_choices, default="blue")
