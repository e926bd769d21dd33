"""Forms for rates, holidays, deposit terms, the refund policy, payments and the quote."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.forms import Choice, DateInput, Number


def _money(label, highest: int = 1_000_000, message=None):
    message = message or _l("From 0 to 1,000,000.")
    return Number(label, validators=[Optional(), NumberRange(min=0, max=highest, message=message)])


class RateForm(FlaskForm):
    weekday = _money(_l("Weekday night (Sun–Thu) NT$"))
    weekend = _money(_l("Weekend night (Fri and Sat) NT$"))
    holiday = _money(_l("Holiday night NT$"))
    extra_bed = _money(_l("Extra bed per night NT$"))
    child = _money(_l("Per child per night NT$"))

    def values(self) -> dict:
        return {name: getattr(self, name).data or 0
                for name in ("weekday", "weekend", "holiday", "extra_bed", "child")}  # fmt: skip


class HolidayForm(FlaskForm):
    day = DateInput(_l("Date"), validators=[DataRequired(message=_l("Enter a date."))])
    name = StringField(
        _l("Name (e.g. 春節, 連假)"),
        validators=[DataRequired(message=_l("Give it a name.")), Length(max=60)],
    )


class TermsForm(FlaskForm):
    deposit_percent = Number(
        _l("Deposit (percent of the price)"), default=30,
        validators=[Optional(),
                    NumberRange(min=0, max=100, message=_l("From 0 to 100."))],
    )  # fmt: skip
    deposit_due_days = Number(
        _l("Deposit due within (days)"), default=3,
        validators=[Optional(), NumberRange(min=0, max=60, message=_l("From 0 to 60."))],
    )  # fmt: skip
    bank_name = StringField(_l("Bank (name and code)"), validators=[Optional(), Length(max=80)])
    bank_account = StringField(_l("Account number"), validators=[Optional(), Length(max=40)])
    account_name = StringField(_l("Account holder"), validators=[Optional(), Length(max=80)])


class RefundRowForm(Form):
    days = Number(
        _l("Days before arrival, at least"),
        validators=[Optional(), NumberRange(min=0, max=365, message=_l("From 0 to 365."))],
    )
    percent = Number(
        _l("Refund percent"),
        validators=[Optional(), NumberRange(min=0, max=100, message=_l("From 0 to 100."))],
    )


class RefundPolicyForm(FlaskForm):
    rules = FieldList(FormField(RefundRowForm), min_entries=1, max_entries=20)


def payment_kind_choices():
    from app.services.booking_money import payment_words

    return [(kind, payment_words(kind)) for kind in ("deposit", "balance")]


def method_choices():
    from app.services.booking_money import method_words

    return [(method, method_words(method)) for method in ("transfer", "cash", "card")]


class PaymentForm(FlaskForm):
    kind = Choice(_l("For"), choices=payment_kind_choices, default="deposit")
    method = Choice(_l("Paid by"), choices=method_choices, default="transfer")
    paid_on = DateInput(_l("Date paid"), validators=[DataRequired(message=_l("Enter a date."))])
    amount = Number(
        _l("Amount (NT$)"),
        validators=[InputRequired(message=_l("Enter the amount.")),
                    NumberRange(min=1, max=100_000_000, message=_l("From 1 to 100,000,000."))],
    )  # fmt: skip
    account_last5 = StringField(
        _l("Last 5 digits of the payer's account"),
        validators=[Optional(), Regexp(r"^[0-9]{5}$", message=_l("Exactly 5 digits."))],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def values(self) -> dict:
        return {"kind": self.kind.data, "method": self.method.data, "paid_on": self.paid_on.data,
                "amount": self.amount.data, "account_last5": (self.account_last5.data or "").strip(),
                "note": self.note.data or ""}  # fmt: skip


class CancelForm(FlaskForm):
    confirm = HiddenField()
    method = Choice(_l("Refund by"), choices=method_choices, default="transfer")


class QuoteForm(FlaskForm):
    """The quote's query parameters (a GET: no CSRF token)."""

    class Meta:
        csrf = False

    room_id = Number(_l("Room"), validators=[Optional()])
    check_in = DateInput(_l("Check-in"), validators=[Optional()])
    check_out = DateInput(_l("Check-out"), validators=[Optional()])
    adults = Number(_l("Adults"), validators=[Optional(), NumberRange(min=0, max=99)])
    children = Number(
        _l("Children"),
        validators=[Optional(), NumberRange(min=0, max=20, message=_l("From 0 to 20."))],
    )
    extra_beds = Number(
        _l("Extra beds"),
        validators=[Optional(), NumberRange(min=0, max=20, message=_l("From 0 to 20."))],
    )
