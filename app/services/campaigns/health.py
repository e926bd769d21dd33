"""Whether each channel can send now: the mail server answers, SMS and LINE are set up and
not paused by a refusal in another campaign. The review page warns before a send that would
wait, and Resume says so instead of pausing again at once."""

from sqlalchemy.orm import Session

from app.services.campaigns.outbox.channel_state import last_channel_pause
from app.services.campaigns.outbox.smtp import forget_server_checks, mail_server_answers
from app.services.channels.setup import configured
from app.services.mail_settings import smtp_target


def _mail_problem(shop, config, fresh: bool) -> tuple[str, dict] | None:
    target = smtp_target(shop, config)
    if target.suppress:
        return None  # mail is dropped on purpose (a demo, tests): nothing to wait for
    if fresh:
        forget_server_checks()
    answer = mail_server_answers(target.host, target.port, target.use_ssl)
    if answer["ok"]:
        return None
    return "server-down", {"host": answer["host"], "problem": answer.get("problem") or
                           answer["error"]}  # fmt: skip


def channel_problem(
    session: Session, shop, config, channel: str, *, fresh: bool = False
) -> tuple[str, dict] | None:
    """(reason code, details) when the channel cannot send now, else None. `fresh`: ask the
    mail server afresh (a Resume), not its answer of the last 30 s."""
    if channel == "email":
        return _mail_problem(shop, config, fresh)
    if not configured(shop).get(channel):
        return "not-set-up", {}
    if fresh:
        return None  # the owner says it is fixed: the next send will tell
    paused = last_channel_pause(session, channel)
    if paused is not None and paused.reason_code != "not-set-up":
        return paused.reason_code, dict(paused.reason_details or {})
    return None
