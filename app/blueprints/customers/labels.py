"""Names of customer fields as staff read them (export columns, import targets)."""

from flask_babel import gettext as _

from app.extensions import db
from app.services import customers as customer_service


def profile_labels() -> dict[str, str]:
    return {
        "member_number": _("Member number"),
        "display_name": _("Name"),
        "nickname": _("Nickname"),
        "level": _("Level"),
        "birthday": _("Birthday"),
        "phone": _("Phone"),
        "email": _("Email"),
        "postal_address": _("Postal address"),
        "occupation": _("Occupation"),
        "summary": _("Summary line"),
    }


def custom_field_labels(template: str = "%(label)s") -> dict[str, str]:
    """ "field:<id>" → the owner's label for each custom field, in their order."""
    return {
        f"field:{field.id}": template % {"label": field.label}
        for field in customer_service.custom_fields(db.session)
    }
