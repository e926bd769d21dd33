"""Forms for consent changes and erasure."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import StringField

from app.forms import Choice
from app.vocabulary import shop_term


class ConsentForm(FlaskForm):
    purpose = Choice(
        _l("Purpose"),
        choices=[("service", _l("Service records")), ("marketing", _l("Marketing email"))],
    )
    action = Choice(_l("Change"), choices=[("given", _l("Given")), ("withdrawn", _l("Withdrawn"))])
    method = Choice(
        _l("How"),
        choices=[
            ("", "—"),
            ("paper", _l("Paper form")),
            ("in_person", _l("In person")),
            ("online", _l("Online")),
        ],
    )


class EraseForm(FlaskForm):
    confirm_name = StringField(
        LazyString(lambda: _("Type the %(person)s's name to confirm", person=shop_term("person")))
    )
