"""Bad segment expressions explained in the user's language, with the position."""

from flask_babel import gettext as _

from app.services.segments import SegmentError


def segment_error_message(error: SegmentError, text: str = "") -> str:
    detail = error.detail
    messages = {
        "empty": _("Write a filter, e.g. tag:VIP and not tag:競爭對手."),
        "too-long": _("The filter is too long (at most 2,000 characters)."),
        "unclosed-quote": _("A quotation mark is not closed."),
        "too-deep": _(
            "Parentheses or “not” are nested too deeply (at most %(max)s levels).", max=detail
        ),
        "unbalanced-open": _("This parenthesis is never closed: add “)”."),
        "unbalanced-close": _("This “)” has no matching “(”."),
        "empty-parentheses": _("Nothing between the parentheses."),
        "unexpected-end": _("The filter ends too early: expected a condition, e.g. tag:VIP."),
        "expected-term": _(
            "Expected a condition (e.g. tag:VIP) but found “%(word)s”.", word=detail
        ),
        "expected-operator": _("Expected and / or / not but found “%(word)s”.", word=detail),
        "expected-duration": _(
            "Write %(field)s with a comparison and days, e.g. %(field)s > 15d.", field=detail
        ),
        "expected-value": _("Write a value after %(key)s:, e.g. %(key)s:VIP.", key=detail),
        "expected-amount": _(
            "Write %(field)s with a comparison and a number, e.g. %(field)s >= 3.", field=detail
        ),
        "unknown-atom": _(
            "Unknown condition “%(key)s:”. Use tag:, level:, birthday:, last_contact, visited, created, has:, optout:, alert:, field:, reminder:, bought:, spend, purchases or stays.",
            key=detail,
        ),
        "bad-level": _(
            "Levels are A, B or C (e.g. level:A or level:A,B), not “%(value)s”.", value=detail
        ),
        "bad-birthday": _(
            "Use birthday:this_month, birthday:next_month or birthday:within 30d, not “%(value)s”.",
            value=detail,
        ),
        "bad-has": _(
            "Use has:email, has:phone, has:address, has:birthday, has:purchase, has:visit or has:stay, not “%(value)s”.",
            value=detail,
        ),
        "bad-optout": _("Use optout:email."),
        "bad-field": _("Write field:NAME=VALUE, e.g. field:teachers_words=很好."),
        "empty-text": _("Empty quotation marks."),
        "unknown-tag": _("There is no tag called “%(name)s”.", name=detail),
        "unknown-field": _("There is no custom field called “%(name)s”.", name=detail),
        "bad-date": _("“%(value)s” is not a real date (year-month-day).", value=detail),
        "unknown-rule": _("There is no reminder rule called “%(name)s”.", name=detail),
    }
    message = messages.get(error.code, _("This filter cannot be understood."))
    if error.suggestions:
        message += " " + _("Did you mean: %(names)s?", names=", ".join(error.suggestions))
    return _("At character %(position)d: %(message)s", position=error.position + 1, message=message)
