"""The providers' refusals in the reader's language: Mitake's statuscode letters, Every8d's
negative codes and LINE's HTTP answers, each read as what the owner can do about it. The
provider's own code and text are always shown beside these words."""

from flask_babel import gettext as _

from app.services.channels.base import SendError


def _mitake(code: str) -> str | None:
    """Mitake's documented statuscode values (SmSend and SmQuery)."""
    return {
        "*": _("The gateway had a system error. If it keeps happening, call Mitake."),
        "a": _("Sending is stopped at the gateway for the moment. Try again later."),
        "b": _("Sending is stopped at the gateway for the moment. Try again later."),
        "c": _("The SMS account is missing. Enter it below."),
        "d": _("The SMS password is missing. Enter it below."),
        "e": _("The gateway says the account or the password is wrong. Check both against "
               "what Mitake gave you and enter the password again."),
        "f": _("The SMS account has expired. Call Mitake to renew it."),
        "h": _("The SMS account has been disabled. Call Mitake."),
        "k": _("The gateway does not accept connections from this server's address. Ask "
               "Mitake to allow it."),
        "l": _("Too many connections to the gateway at once. Try again in a minute."),
        "m": _("Mitake wants the password changed before anything is sent. Change it on "
               "Mitake's website, then enter the new one here."),
        "n": _("The SMS password has expired. Change it on Mitake's website, then enter the "
               "new one here."),
        "p": _("This account may not send through Mitake's HTTP interface. Ask Mitake to "
               "turn it on."),
        "r": _("The gateway is paused for maintenance. Try again later."),
        "s": _("The gateway could not charge the account: there are not enough points. "
               "Top up at Mitake."),
        "t": _("The message expired before it could go."),
        "u": _("The message was empty."),
        "v": _("The gateway says this is not a valid mobile number."),
        "w": _("Too many records were asked for at once."),
        "x": _("The message is too large to send."),
        "y": _("The gateway did not understand the request (a parameter is wrong)."),
        "z": _("The gateway found nothing to report."),
    }.get(code)  # fmt: skip


def _every8d(code: str) -> str | None:
    return {
        "-2": _("The gateway says the account or the password is wrong. Check both and "
                "enter the password again."),
        "-5": _("There is not enough credit left at the gateway. Top up at Every8d."),
        "-6": _("The gateway says this is not a valid mobile number."),
        "-99": _("The gateway had a system error. Try again later."),
        "-100": _("The gateway had a system error. Try again later."),
    }.get(code)  # fmt: skip


def _line(code: str, text: str) -> str | None:
    if code == "400":
        if "'to'" in text:
            return _("LINE does not know this recipient: the account is not a friend of this "
                     "channel, or it was linked through another channel.")  # fmt: skip
        return _("LINE did not accept the message as it was sent (a part of it is invalid).")
    return {
        "401": _("LINE did not accept the channel access token. Issue a new one in the LINE "
                 "Developers console (Messaging API tab → Channel access token (long-lived) → "
                 "Issue) and paste it here."),
        "403": _("LINE says this channel may not do that: check its plan and permissions."),
        "404": _("LINE does not know this account."),
        "429": _("Too many messages at once: LINE asks to wait a little. Try again in a "
                 "minute."),
        "429-monthly": _("This month's messages are used up. Wait for next month, or change "
                         "the plan in LINE Official Account Manager."),
    }.get(code)  # fmt: skip


def refusal_words(provider: str, error: SendError) -> str:
    """What the provider's answer means, in the reader's language (its code and text are
    shown beside it)."""
    code = error.code
    if code is None or code == "server-down":
        return _("No answer from the provider: check this server's internet connection, "
                 "then try again.")  # fmt: skip
    if code.isdigit() and int(code) >= 500:
        return _("The provider had an error on its side. Try again later.")
    if provider == "mitake":
        words = _mitake(code)
    elif provider == "every8d":
        words = _every8d(code)
    else:
        words = _line(code, error.text)
    if words is None and error.kind == "halt":
        return _("The provider refused the account; nothing can be sent until this is "
                 "fixed.")  # fmt: skip
    return words or _("The provider refused the message.")
