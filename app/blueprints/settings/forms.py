"""The shop settings form."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError


class ShopForm(FlaskForm):
    name = StringField(
        _l("Shop name"), validators=[DataRequired(message=_l("Enter the shop's name.")), Length(max=120)]
    )
    kind = SelectField(
        _l("Kind of shop"),
        choices=[
            SelectChoice("homestay", _l("Homestay (guests and stays)")),
            SelectChoice("afterschool", _l("After-school centre (children and guardians)")),
        ],
    )
    timezone = StringField(_l("Time zone"), validators=[DataRequired(message=_l("Enter a time zone."))])
    default_locale = SelectField(_l("Default language"), choices=[SelectChoice("zh_Hant", "中文"), SelectChoice("en", "English")])
    sender_address = EmailField(
        _l("Sender address for email"),
        validators=[Optional(), Email(message=_l("Enter a valid email address."), check_deliverability=False)],
    )
    submit = SubmitField(_l("Save settings"))

    def validate_timezone(self, field):
        if field.data.strip() not in available_timezones():
            raise ValidationError(_l("Unknown time zone; use a name such as Asia/Taipei."))
