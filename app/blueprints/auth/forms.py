"""Forms for signing in and the first-run setup."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.services.accounts import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(message=_l("Enter your email."))])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password."))]
    )
    submit = SubmitField(_l("Sign in"))


class SetupForm(FlaskForm):
    shop_name = StringField(
        _l("Shop name"),
        validators=[DataRequired(message=_l("Enter the shop's name.")), Length(max=120)],
    )
    name = StringField(
        _l("Your name"), validators=[DataRequired(message=_l("Enter your name.")), Length(max=120)]
    )
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter your email.")),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("Choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Create the owner account"))
