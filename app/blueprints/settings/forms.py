"""The shop settings form."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    EmailField,
    PasswordField,
    SelectChoice,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.forms import Checkboxes, Choice, Number


class ShopForm(FlaskForm):
    name = StringField(
        _l("Shop name"),
        validators=[DataRequired(message=_l("Enter the shop's name.")), Length(max=120)],
    )
    kind = Choice(
        _l("Kind of shop"),
        choices=[
            SelectChoice("homestay", _l("Homestay (guests and stays)")),
            SelectChoice("afterschool", _l("After-school centre (children and guardians)")),
        ],
    )
    timezone = StringField(
        _l("Time zone"), validators=[DataRequired(message=_l("Enter a time zone."))]
    )
    default_locale = Choice(
        _l("Default language"),
        choices=[SelectChoice("zh_Hant", "中文"), SelectChoice("en", "English")],
    )
    sender_address = EmailField(
        _l("Sender address for email"),
        validators=[
            Optional(),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
        ],
    )
    sender_name = StringField(
        _l("Sender name (e.g. the shop's name)"), validators=[Optional(), Length(max=120)]
    )
    public_base_url = StringField(
        _l("Public address of this app (for unsubscribe links)"),
        validators=[
            Optional(),
            Length(max=300),
            Regexp(
                r"^https?://[^\s/]+(/[^\s]*)?$",
                message=_l("Enter an address such as https://crm.example.com."),
            ),
        ],
    )
    mail_rate_per_minute = Number(
        _l("Most emails per minute (your mail provider's limit)"),
        validators=[
            InputRequired(message=_l("Enter a number.")),
            NumberRange(min=1, max=100000, message=_l("Enter a number from 1 to 100,000.")),
        ],
        default=600,
    )
    mail_max_consecutive_failures = Number(
        _l("Pause a campaign after this many failures in a row"),
        validators=[
            InputRequired(message=_l("Enter a number.")),
            NumberRange(min=1, max=1000, message=_l("Enter a number from 1 to 1,000.")),
        ],
        default=10,
    )
    level_a_name = StringField(_l("Name for level A"), validators=[Optional(), Length(max=40)])
    level_b_name = StringField(_l("Name for level B"), validators=[Optional(), Length(max=40)])
    level_c_name = StringField(_l("Name for level C"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Save settings"))

    def validate_timezone(self, field):
        if field.data.strip() not in available_timezones():
            raise ValidationError(_l("Unknown time zone; use a name such as Asia/Taipei."))


class CustomFieldForm(FlaskForm):
    label = StringField(
        _l("Label (what staff see)"),
        validators=[DataRequired(message=_l("Enter a label.")), Length(max=80)],
    )
    key = StringField(
        _l("Merge-field name (letters, digits, _)"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(
                r"^[a-z][a-z0-9_]*$",
                message=_l("Use lower-case letters, digits and _, starting with a letter."),
            ),
        ],
    )
    submit = SubmitField(_l("Add field"))


class GroupsForm(FlaskForm):
    """Which tags (or which custom field) make the classes of the teacher's Today view."""

    source = Choice(
        _l("Groups come from"),
        choices=[
            SelectChoice("tags", _l("Tags I mark as groups")),
            SelectChoice("field", _l("A custom field (each value is a group)")),
        ],
    )
    tags = Checkboxes(_l("Tags that are groups"), choices=[], validate_choice=True)
    field_id = Choice(_l("Custom field"), choices=[])
    submit = SubmitField(_l("Save groups"))


class ChannelsForm(FlaskForm):
    """SMS gateway and LINE channel. Secrets are never shown again: blank keeps them."""

    sms_provider = Choice(
        _l("SMS gateway"),
        choices=[
            ("", _l("None")),
            ("mitake", _l("Mitake (三竹)")),
            ("every8d", _l("Every8d (互動資通)")),
        ],
        default="",
    )
    sms_username = StringField(_l("SMS account"), validators=[Optional(), Length(max=120)])
    sms_password = PasswordField(
        _l("SMS password (leave blank to keep the saved one)"),
        validators=[Optional(), Length(max=200)],
    )
    sms_sender = StringField(
        _l("SMS sender name (Every8d subject)"), validators=[Optional(), Length(max=40)]
    )
    sms_part_price = DecimalField(
        _l("Price per SMS part (NT$)"), places=2,
        validators=[InputRequired(message=_l("Enter a number.")), NumberRange(min=0, max=100)],
        default=1,
    )  # fmt: skip
    line_account_id = StringField(
        _l("LINE official account ID (e.g. @123abcde)"),
        validators=[Optional(), Length(max=40),
                    Regexp(r"^@?[A-Za-z0-9._-]+$", message=_l("Letters, digits and @ only."))],
    )  # fmt: skip
    line_channel_secret = PasswordField(
        _l("LINE channel secret (leave blank to keep the saved one)"),
        validators=[Optional(), Length(max=200)],
    )
    line_access_token = PasswordField(
        _l("LINE channel access token (leave blank to keep the saved one)"),
        validators=[Optional(), Length(max=500)],
    )


class MailServerForm(FlaskForm):
    """The mail server. The password is never shown again: blank keeps it."""

    mail_host = StringField(
        _l("Mail server (SMTP host, e.g. smtp.gmail.com)"),
        validators=[Optional(), Length(max=253),
                    Regexp(r"^[A-Za-z0-9.-]+$", message=_l("A host name such as smtp.example.com."))],
    )  # fmt: skip
    mail_security = Choice(
        _l("Security"),
        choices=[
            ("starttls", _l("STARTTLS (usually port 587)")),
            ("ssl", _l("SSL/TLS (usually port 465)")),
            ("none", _l("None (port 25, inside your own network only)")),
        ],
        default="starttls",
    )
    mail_port = Number(
        _l("Port (empty: the usual one for the security chosen)"),
        validators=[Optional(), NumberRange(min=1, max=65535, message=_l("A port from 1 to 65535."))],
    )  # fmt: skip
    mail_username = StringField(_l("Login (often your email address)"),
                                validators=[Optional(), Length(max=254)])  # fmt: skip
    mail_password = PasswordField(
        _l("Password (leave blank to keep the saved one)"),
        validators=[Optional(), Length(max=500)],
    )


class TestMailForm(FlaskForm):
    test_to = EmailField(
        _l("Send a test mail to"),
        validators=[DataRequired(message=_l("Enter an email address.")),
                    Email(message=_l("Enter a valid email address.")), Length(max=254)],
    )  # fmt: skip


class TestSmsForm(FlaskForm):
    test_number = StringField(
        _l("Send a test SMS to (a Taiwanese mobile number)"),
        validators=[DataRequired(message=_l("Enter a mobile number.")), Length(max=30)],
    )

    def validate_test_number(self, field):
        from app.services.channels import normalise_mobile

        number = normalise_mobile(field.data)
        if number is None:
            raise ValidationError(_l("Enter a mobile number such as 0912 345 678."))
        field.data = number


class TestLineForm(FlaskForm):
    link_id = Choice(
        _l("Send a test LINE message to"),
        choices=[],
        validators=[DataRequired(message=_l("Choose a linked customer."))],
    )
