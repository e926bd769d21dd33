"""View helpers that more than one area's pages use: the side-form page with its errors, the
words for timeline errors, staff choices, the mail server's state and a child's initials. (The history-sheet pages
have their own module, app/blueprints/history_import.py.)"""

from flask import current_app, render_template
from flask_babel import gettext as _

from app.extensions import db
from app.forms import as_select_choices
from app.services import accounts
from app.services import campaigns as campaign_service
from app.services.timeline import TimelineError


def form_panel_with_errors(customer, name: str, form, title: str):
    """A side form that failed validation, as its own page with the errors beside the fields
    and everything typed still there (422); the error summary at the top takes the focus."""
    return (
        render_template(
            "customers/form_panel.html",
            template=f"customers/_form_{name}.html",
            customer=customer,
            form=form,
            title=title,
        ),
        422,
    )


def timeline_error_message(error: TimelineError) -> str:
    return {
        "empty": _("Write something first."),
        "too-long": _("At most 5000 characters, please."),
        "category": _("Choose one of the options."),
        "keywords": _("Give at least one keyword."),
        "kind": _("Choose one of the options."),
        "future": _("That is still to come: an entry can be dated earlier than now, not later."),
        "too-old": _("Give a day from the year 2000 on."),
    }.get(error.code, _("Please check what you wrote."))


def staff_choices(blank: str):
    users = accounts.active_staff(db.session)
    return as_select_choices([("", blank)] + [(str(user.id), user.name) for user in users])


def mail_server_status() -> dict:
    """Whether the shop's mail server answers (checked at most every 30 s)."""
    from app.services.mail_settings import smtp_target
    from app.services.shop import get_shop

    target = smtp_target(get_shop(db.session), current_app.config)
    return campaign_service.mail_server_answers(target.host, target.port, target.use_ssl)


def initials(name: str) -> str:
    """Two letters for a Latin name ("Amy Chen" → "AC"), the given name for a Chinese one."""
    parts = name.split()
    if len(parts) > 1 and all(part[:1].isascii() for part in parts):
        return (parts[0][0] + parts[-1][0]).upper()
    name = name.strip()
    if name[:1].isascii():
        return name[:2].upper()
    return name[-2:] if len(name) >= 3 else name
