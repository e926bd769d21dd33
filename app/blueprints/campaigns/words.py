"""What campaign pages say in the reader's language: why a person is skipped, what is wrong
with a template."""

from flask_babel import gettext as _

from app.blueprints.campaigns import bp
from app.services import campaigns as service
from app.templating import channel_label


def skip_label(reason: str | None) -> str:
    return {
        "opted_out": _("Opted out of email"),
        "erased": _("Erased at their request"),
        "no_consent": _("No consent to marketing email"),
        "no_service_consent": _("No consent to keep their records"),
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


# ---- why a channel paused or a delivery failed, from its code and details --------------------


@bp.app_template_global()
def problem_words(problem: str) -> str:
    """refused, timeout… in the reader's language (anything else as it came)."""
    return {
        "refused": _("connection refused"),
        "timeout": _("no answer in time"),
        "unknown-host": _("no such server name"),
        "disconnected": _("the connection was cut"),
    }.get(problem or "", problem or "")


def _server_down(channel: str, details: dict) -> str:
    problem = problem_words(details.get("problem", ""))
    if channel == "email" and details.get("host"):
        return _("The mail server %(host)s does not answer (%(problem)s).",
                 host=details["host"], problem=problem)  # fmt: skip
    if channel == "email":
        return _("The mail server does not answer (%(problem)s).", problem=problem)
    return _("The %(channel)s provider does not answer (%(problem)s).",
             channel=channel_label(channel), problem=problem)  # fmt: skip


@bp.app_template_global()
def reason_label(code: str | None, details: dict | None, channel: str = "email") -> str:
    """A channel's pause or a delivery's failure in the reader's language."""
    details = details or {}
    if code == "server-down":
        return _server_down(channel, details)
    if code == "failures-in-a-row":
        last = reason_label(details.get("last_code"), details, channel)
        return _("%(count)d failures in a row; the last: %(last)s",
                 count=details.get("count", 0), last=last)  # fmt: skip
    words = {
        "server-refused": _("The mail server %(host)s refused the connection: %(answer)s"),
        "login-refused": _("The mail server %(host)s did not accept the login: %(answer)s"),
        "not-set-up": _("%(channel)s is not set up yet."),
        "provider-halt": _("%(channel)s refuses to send until the account is put right: "
                           "%(answer)s"),
        "quota": _("This month’s LINE messages are used up."),
        "server-busy": _("The server asked to try again later: %(answer)s"),
        "connection-lost": _("The connection to the server broke off (%(problem)s)."),
        "address-refused": _("The server refused this address: %(answer)s"),
        "refused": _("The server refused the message: %(answer)s"),
        "bad-address": _("This address cannot be used: %(answer)s"),
        "template": _("The message could not be made: %(answer)s"),
        "provider-busy": _("%(channel)s asked to try again later: %(answer)s"),
        "provider-refused": _("%(channel)s refused this message: %(answer)s"),
        "rate-limited": _("%(channel)s asked to slow down."),
    }.get(code or "")  # fmt: skip
    if words is None:
        return str(details.get("answer") or details.get("problem") or code or "")
    return words % {
        "host": details.get("host", ""),
        "answer": details.get("answer", ""),
        "problem": problem_words(details.get("problem", "")),
        "channel": channel_label(channel),
    }


@bp.app_template_global()
def delivery_error_label(delivery) -> str:
    """What the recipients table says about a failed or waiting delivery."""
    if not delivery.error_code:
        return delivery.error or ""
    problem = delivery.error if delivery.error_code in ("server-down", "connection-lost") else ""
    details = {"answer": delivery.error or "", "problem": problem}
    return reason_label(delivery.error_code, details, delivery.channel)


@bp.app_template_global()
def channel_state_label(state: str) -> str:
    return {
        "sending": _("Sending"),
        "paused": _("Paused"),
        "failed": _("Some failed; they can be sent again"),
        "done": _("Done"),
    }.get(state, state)
