"""The shop's mail server, kept in Settings → Mail (the password sealed), or instance/config.py
when the owner has set none; and the test mail that reports the server's own answer."""

import smtplib
import socket
import ssl
from dataclasses import dataclass

from app.models import Shop
from app.services.campaigns.outbox.letter import Letter
from app.services.campaigns.outbox.smtp import SmtpTarget, forget_server_checks
from app.services.text import one_line

SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
TEST_TIMEOUT = 10.0


def smtp_target(shop: Shop | None, config) -> SmtpTarget:
    """Where mail goes: the shop's own server when the owner set one, else the config's."""
    base = SmtpTarget.from_config(config)
    if shop is None or not shop.mail_host:
        return base
    security = shop.mail_security if shop.mail_security in SECURITY else "none"
    return SmtpTarget(
        host=shop.mail_host,
        port=shop.mail_port or DEFAULT_PORTS[security],
        use_tls=security == "starttls",
        use_ssl=security == "ssl",
        username=shop.mail_username or None,
        password=shop.mail_password or None,
        suppress=base.suppress,
        timeout=base.timeout,
    )


def save(shop: Shop, data: dict, *, clear_password: bool = False) -> None:
    """The owner's mail server; a blank password keeps the saved one."""
    host = one_line(data.get("mail_host") or "").strip().lower()
    shop.mail_host = host or None
    security = data.get("mail_security") or "none"
    shop.mail_security = security if host else None
    shop.mail_port = (data.get("mail_port") or DEFAULT_PORTS[security]) if host else None
    shop.mail_username = one_line(data.get("mail_username") or "").strip() or None
    if clear_password or not host:
        shop.mail_password = None
    elif data.get("mail_password"):
        shop.mail_password = data["mail_password"]
    forget_server_checks()


@dataclass
class TestResult:
    ok: bool
    step: str  # connect | tls | login | sender | recipient | data | sent
    reply: str  # the server's own words (code and text), or what went wrong on the way


def _reply(code, message) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}".strip()


def _transaction(client, target: SmtpTarget, letter: Letter, step: list) -> TestResult:
    step[0] = "tls"
    client.ehlo()
    if target.use_tls:
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    if target.username:
        step[0] = "login"
        client.login(target.username, target.password or "")
    sender, to = letter.envelope()
    step[0] = "sender"
    code, message = client.mail(sender)
    if code >= 400:
        return TestResult(False, "sender", _reply(code, message))
    step[0] = "recipient"
    code, message = client.rcpt(to)
    if code >= 400:
        return TestResult(False, "recipient", _reply(code, message))
    step[0] = "data"
    code, message = client.data(letter.as_bytes())
    return TestResult(code < 400, "sent" if code < 400 else "data", _reply(code, message))


def send_test(target: SmtpTarget, letter: Letter) -> TestResult:
    """Sends one mail step by step and keeps what the server said at the step that decided it
    (250 … queued as …; 535 authentication failed; 550 no such user), or why no server
    answered (refused, no such host, timed out, TLS)."""
    step = ["connect"]
    try:
        kind = smtplib.SMTP_SSL if target.use_ssl else smtplib.SMTP
        with kind(target.host, target.port, timeout=min(target.timeout, TEST_TIMEOUT)) as client:
            return _transaction(client, target, letter, step)
    except smtplib.SMTPResponseException as error:
        return TestResult(False, step[0], _reply(error.smtp_code, error.smtp_error))
    except smtplib.SMTPRecipientsRefused as error:
        code, message = next(iter(error.recipients.values()))
        return TestResult(False, "recipient", _reply(code, message))
    except (UnicodeError, ValueError) as error:
        return TestResult(False, "address", str(error))
    except ssl.SSLError as error:
        return TestResult(False, "tls", error.reason or str(error))
    except socket.gaierror as error:
        return TestResult(False, "host", error.strerror or str(error))
    except TimeoutError:
        return TestResult(False, "timeout", f"{target.host}:{target.port}")
    except (smtplib.SMTPException, OSError) as error:
        return TestResult(False, step[0], str(error) or type(error).__name__)
