"""Forms for adding and changing staff accounts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from app.forms import Choice
from app.services.accounts import MIN_PASSWORD_LENGTH


def role_choices():
    """The tablet role is named as the shop calls it (housekeeping or teacher)."""
    from app.templating import role_label

    return [
        SelectChoice("owner", _l("Owner")),
        SelectChoice("frontdesk", _l("Front desk")),
        SelectChoice("teacher", role_label("teacher")),
    ]


def _password_validators():
    return [
        DataRequired(message=_l("Choose a password.")),
        Length(
            min=MIN_PASSWORD_LENGTH,
            message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH),
        ),
    ]


class StaffCreateForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
    )
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter an email address.")),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
        ],
    )
    role = Choice(_l("Role"), choices=role_choices)
    password = PasswordField(_l("First password"), validators=_password_validators())
    submit = SubmitField(_l("Add staff member"))


class StaffEditForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
    )
    role = Choice(_l("Role"), choices=role_choices)
    active = BooleanField(_l("Active (can sign in)"))
    submit = SubmitField(_l("Save"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=_password_validators())
    submit = SubmitField(_l("Set password"))
