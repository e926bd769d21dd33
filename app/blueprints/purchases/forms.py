"""Purchase and product forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import DateInput, Number
from app.services.purchases import MAX_NOTE, MAX_PRICE, MAX_QUANTITY


class PurchaseForm(FlaskForm):
    product = StringField(
        _l("Product (type any part of its name)"),
        validators=[DataRequired(message=_l("Choose a product.")), Length(max=120)],
    )
    day = DateInput(_l("Date"), validators=[DataRequired(message=_l("Enter a date."))])
    quantity = Number(
        _l("Quantity"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=1, max=MAX_QUANTITY, message=_l("From 1 to 100,000.")),
        ],
    )
    unit_price = Number(
        _l("Unit price (NT$, empty: the product's price)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_PRICE, message=_l("From 0 to 100,000,000.")),
        ],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE)])


class ProductForm(FlaskForm):
    name = StringField(
        _l("Product name"),
        validators=[DataRequired(message=_l("Enter the product's name.")), Length(max=120)],
    )
    price = Number(
        _l("Price (NT$)"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=0, max=MAX_PRICE, message=_l("From 0 to 100,000,000.")),
        ],
    )
    points = Number(
        _l("Bonus points (PV)"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(min=0, max=MAX_PRICE, message=_l("From 0 to 100,000,000.")),
        ],
    )
    active = BooleanField(_l("On sale (offered when entering purchases)"), default=True)
