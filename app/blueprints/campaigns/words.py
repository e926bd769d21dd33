"""What campaign pages say in the reader's language: why a person is skipped, what is wrong
with a template."""

from flask_babel import gettext as _

from app.services import campaigns as service


def skip_label(reason: str | None) -> str:
    return {
        "opted_out": _("Opted out of email"),
        "erased": _("Erased at their request"),
        "no_consent": _("No consent to marketing email"),
        "no_email": _("No email address"),
        "guardian_no_email": _("Guardian without an email address"),
        "no_mobile": _("No mobile number"),
        "sms_opted_out": _("Opted out of SMS"),
        "line_not_linked": _("Not linked to LINE"),
        "line_unfollowed": _("Stopped following the shop on LINE"),
        "cancelled": _("Cancelled"),
    }.get(reason or "", reason or "")


def template_problem_message(problem: service.TemplateProblem) -> str:
    detail = problem.detail
    message = {
        "syntax": _("The template has a mistake: %(detail)s", detail=detail),
        "unknown-field": _("There is no merge field called “%(name)s”.", name=detail),
        "unknown-custom": _("There is no custom field called “%(name)s”.", name=detail),
        "unknown-filter": _(
            "“|%(name)s” cannot be used in a mail. Filters you can use: %(allowed)s.",
            name=detail,
            allowed=", ".join(service.MERGE_FILTERS),
        ),
        "unknown-test": _("“is %(name)s” cannot be used in a mail.", name=detail),
        "too-long": _("The text is too long (at most %(max)s characters).", max=detail),
        "statement": _(
            "“%(name)s” cannot be used in a mail; use merge fields like {{ nickname }}.",
            name=detail,
        ),
        "limit-output": _("This would make a mail far too long. Please shorten it."),
        "limit-loop": _("A loop in the template repeats too many times."),
        "limit-number": _("A number in the template is too large."),
        "limit-time": _("The template takes too long to fill in. Please simplify it."),
        "limit-statement": _("“%” formatting cannot be used; use merge fields instead."),
        "error": _("The template cannot be filled in: %(detail)s", detail=detail),
    }.get(problem.code, _("The template cannot be used."))
    if problem.line:
        return _("Line %(line)d: %(message)s", line=problem.line, message=message)
    return message
