"""Forms for the customer profile, family members, important dates and tags."""

import re
from datetime import date

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from app.blueprints.timeline.forms import category_choices as alert_category_choices
from app.forms import Choice, DateInput
from app.models.customer import CHANNELS
from app.models.tag import PALETTE

PHONE_PATTERN = re.compile(r"^[0-9+()#*.\-\s/a-zA-Z]{3,40}$")


def level_choices():
    from flask import g

    from app.extensions import db
    from app.services.shop import get_shop
    from app.vocabulary import shop_level_words

    if "shop" not in g:
        g.shop = get_shop(db.session)
    return list(shop_level_words(g.shop).items())


def channel_choices():
    labels = {
        "email": _l("Email"),
        "phone": _l("Phone"),
        "sms": _l("SMS"),
        "line": _l("LINE"),
        "in_person": _l("In person"),
    }
    return [("", _l("No preference"))] + [(key, labels[key]) for key in CHANNELS]


def consent_method_choices():
    return [
        ("", _l("Not recorded")),
        ("paper", _l("Paper form")),
        ("in_person", _l("In person")),
        ("online", _l("Online")),
    ]


def colour_choices():
    names = {
        "red": _l("Red"),
        "orange": _l("Orange"),
        "amber": _l("Amber"),
        "green": _l("Green"),
        "teal": _l("Teal"),
        "blue": _l("Blue"),
        "indigo": _l("Indigo"),
        "purple": _l("Purple"),
        "pink": _l("Pink"),
        "brown": _l("Brown"),
        "grey": _l("Grey"),
    }
    return [(colour, names[colour]) for colour in PALETTE]


def _not_in_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError(_l("This date is in the future."))


def _not_before_1900(form, field):
    if field.data and field.data.year < 1900:
        raise ValidationError(_l("This date is too long ago."))


phone_validators = [
    Optional(),
    Regexp(PHONE_PATTERN, message=_l("Enter a phone number: digits, spaces, + ( ) - only.")),
]
email_validators = [
    Optional(),
    Length(max=254),
    Email(message=_l("Enter a valid email address."), check_deliverability=False),
]


class CustomerForm(FlaskForm):
    display_name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
    )
    nickname = StringField(
        _l("Nickname (used in greetings)"), validators=[Optional(), Length(max=60)]
    )
    member_number = StringField(
        _l("Member number"),
        validators=[
            Optional(),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9\-]+$", message=_l("Use letters, digits and - only.")),
        ],
    )
    level = Choice(_l("Level"), choices=level_choices, default="C")
    birthday = DateInput(_l("Birthday"), validators=[Optional(), _not_in_future, _not_before_1900])
    phone = StringField(_l("Phone"), validators=phone_validators)
    email = EmailField(_l("Email"), validators=email_validators)
    postal_address = TextAreaField(_l("Postal address"), validators=[Optional(), Length(max=500)])
    preferred_channel = Choice(_l("Preferred contact"), choices=channel_choices, default="")
    occupation = StringField(_l("Occupation"), validators=[Optional(), Length(max=120)])
    summary = StringField(_l("One-line summary"), validators=[Optional(), Length(max=200)])
    assigned_user_id = Choice(_l("Looked after by"), coerce=int, choices=[], default=0)
    consent_service = BooleanField(_l("Agreed to service records"))
    consent_marketing = BooleanField(_l("Agreed to marketing email"))
    consent_method = Choice(_l("How consent was given"), choices=consent_method_choices, default="")
    email_opt_out = BooleanField(_l("Does not want email (opted out)"))
    sms_opt_out = BooleanField(_l("Does not want SMS (opted out)"))
    version = HiddenField()

    def profile_data(self) -> dict:
        return {
            "display_name": self.display_name.data,
            "nickname": self.nickname.data,
            "member_number": self.member_number.data,
            "level": self.level.data,
            "birthday": self.birthday.data,
            "phone": self.phone.data,
            "email": self.email.data,
            "postal_address": self.postal_address.data,
            "preferred_channel": self.preferred_channel.data or None,
            "occupation": self.occupation.data,
            "summary": self.summary.data,
            "assigned_user_id": self.assigned_user_id.data or None,
            "email_opt_out": self.email_opt_out.data,
            "sms_opt_out": self.sms_opt_out.data,
        }

    def consent_purposes(self) -> set[str]:
        purposes = set()
        if self.consent_service.data:
            purposes.add("service")
        if self.consent_marketing.data:
            purposes.add("marketing")
        return purposes


class NewCustomerForm(CustomerForm):
    """Everything the front desk knows at the first meeting, in one form: the person, a
    guardian (or companion) and an allergy or medical alert."""

    group = Choice(_l("Class"), choices=[], default="")
    guardian_name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    guardian_relation = StringField(
        _l("Relation (e.g. mother)"), validators=[Optional(), Length(max=60)]
    )
    guardian_phone = StringField(_l("Phone"), validators=phone_validators)
    guardian_email = EmailField(_l("Email"), validators=email_validators)
    alert_category = Choice(_l("Category"), choices=alert_category_choices, default="allergy")
    alert_keywords = StringField(
        _l("Keywords (comma separated, e.g. 花生, peanut)"),
        validators=[Optional(), Length(max=200)],
    )
    alert_body = TextAreaField(
        _l("What everyone must know"), validators=[Optional(), Length(max=5000)]
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if (
            self.guardian_phone.data or self.guardian_email.data or self.guardian_relation.data
        ) and not (self.guardian_name.data or "").strip():
            self.guardian_name.errors = [*self.guardian_name.errors, _l("Enter a name.")]
            ok = False
        if (self.alert_keywords.data or "").strip() and not (self.alert_body.data or "").strip():
            self.alert_body.errors = [*self.alert_body.errors, _l("Write something first.")]
            ok = False
        if (self.alert_body.data or "").strip() and not (self.alert_keywords.data or "").strip():
            self.alert_keywords.errors = [
                *self.alert_keywords.errors,
                _l("Give at least one keyword."),
            ]
            ok = False
        return ok

    def guardian_data(self) -> dict | None:
        if not (self.guardian_name.data or "").strip():
            return None
        return {
            "name": self.guardian_name.data,
            "relation": self.guardian_relation.data,
            "phone": self.guardian_phone.data,
            "email": self.guardian_email.data,
            "is_guardian": True,
        }


def _receives_email_label() -> str:
    """A child's guardian at a centre; a guest's companion at a homestay."""
    from app.vocabulary import shop_kind

    if shop_kind() == "afterschool":
        return str(_l("Guardian (receives the shop's email)"))
    return str(_l("Companion (receives the shop's email)"))


class FamilyMemberForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
    )
    relation = StringField(_l("Relation (e.g. mother)"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=phone_validators)
    email = EmailField(_l("Email"), validators=email_validators)
    birthday = DateInput(_l("Birthday"), validators=[Optional(), _not_in_future, _not_before_1900])
    is_guardian = BooleanField(LazyString(lambda: _receives_email_label()))
    can_pick_up = BooleanField(_l("May pick the child up (authorised pick-up)"))


class ImportantDateForm(FlaskForm):
    label = StringField(
        _l("What (e.g. anniversary)"),
        validators=[DataRequired(message=_l("Say what the date is.")), Length(max=80)],
    )
    date = DateInput(
        _l("Date"), validators=[DataRequired(message=_l("Enter a date.")), _not_before_1900]
    )


class TagAddForm(FlaskForm):
    name = StringField(_l("Add a tag"), validators=[Optional(), Length(max=60)])
    pick = HiddenField()
    colour = Choice(_l("Colour for a new tag"), choices=colour_choices, default="blue")


class BulkTagForm(FlaskForm):
    tag = StringField(
        _l("Tag"), validators=[DataRequired(message=_l("Enter a tag.")), Length(max=60)]
    )
    action = Choice(
        _l("Action"),
        choices=[("add", _l("Add to selected")), ("remove", _l("Remove from selected"))],
        default="add",
    )


class ArchiveForm(FlaskForm):
    archived = IntegerField()


class NotDuplicateForm(FlaskForm):
    """Two customers the desk says are different people."""

    first = IntegerField(validators=[DataRequired()])
    second = IntegerField(validators=[DataRequired()])


class MergeForm(FlaskForm):
    """The merge page: the two records as they were shown, and each field's side."""

    keep = IntegerField(validators=[DataRequired()])
    other = IntegerField(validators=[DataRequired()])
    keep_version = IntegerField(validators=[DataRequired()])
    other_version = IntegerField(validators=[DataRequired()])
