"""Where mail goes: the SMTP server from the config, its transport for the outbox, the one-off
test mail, a probe that says whether the server answers, and how to read its refusals."""

import smtplib
import time
from dataclasses import dataclass

from app.services.campaigns.outbox.connections import Job
from app.services.campaigns.outbox.letter import Letter
from app.services.campaigns.outbox.reasons import network_problem


class _Suppressed:
    """MAIL_SUPPRESS_SEND (tests, a demo without a mail server): accepts and drops."""

    def sendmail(self, *_args, **_kwargs):
        return {}

    def quit(self):
        pass

    def close(self):
        pass


@dataclass(frozen=True)
class SmtpTarget:
    """The mail server from the instance config (MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS,
    MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD; MAIL_SUPPRESS_SEND drops mail)."""

    host: str = "localhost"
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    suppress: bool = False
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config) -> "SmtpTarget":
        return cls(
            host=config.get("MAIL_SERVER", "localhost"),
            port=int(config.get("MAIL_PORT", 25)),
            use_tls=bool(config.get("MAIL_USE_TLS", False)),
            use_ssl=bool(config.get("MAIL_USE_SSL", False)),
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            suppress=bool(config.get("MAIL_SUPPRESS_SEND", False)),
            timeout=float(config.get("MAIL_TIMEOUT", 30)),
        )

    def open(self):
        if self.suppress:
            return _Suppressed()
        kind = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        client = kind(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls:
                client.starttls()
            if self.username:
                client.login(self.username, self.password or "")
        except BaseException:
            client.close()
            raise
        return client


def send_one(target: SmtpTarget, letter: Letter) -> None:
    """One mail on its own connection (the test mail from the review step)."""
    sender, to = letter.envelope()
    data = letter.as_bytes()
    client = target.open()
    try:
        client.sendmail(sender, [to], data)
    finally:
        _close(client)


def _close(client) -> None:
    if client is None:
        return
    try:
        client.quit()
    except Exception:  # noqa: BLE001 - a broken connection cannot be closed politely
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass


_SERVER_CHECKS: dict[tuple, tuple[float, dict]] = {}


def forget_server_checks() -> None:
    """After the owner changes the mail server: the next page asks it afresh."""
    _SERVER_CHECKS.clear()


def mail_server_answers(host: str, port: int, use_ssl: bool = False, timeout: float = 3.0) -> dict:
    """{"ok": bool, "host": "smtp:25", "error": "..."}: does an SMTP server answer there?
    Remembered for 30 s so pages that show it stay fast."""
    key = (host, port, use_ssl)
    now = time.monotonic()
    cached = _SERVER_CHECKS.get(key)
    if cached and now - cached[0] < 30:
        return cached[1]
    result = {"ok": True, "host": f"{host}:{port}", "error": ""}
    try:
        client = (smtplib.SMTP_SSL if use_ssl else smtplib.SMTP)(host, port, timeout=timeout)
        try:
            client.noop()
        finally:
            client.close()
    except (smtplib.SMTPException, OSError) as error:
        result = {
            "ok": False,
            "host": f"{host}:{port}",
            "error": str(error) or type(error).__name__,
            "problem": network_problem(error),  # refused, timeout, unknown-host…: for words
        }
    _SERVER_CHECKS[key] = (now, result)
    return result


def classify_failure(error: Exception) -> tuple[str, str]:
    """("temporary" | "permanent", what the server said) for an SMTP failure of one message."""
    if isinstance(error, UnicodeError | ValueError):
        return "permanent", f"cannot send to this address: {error}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, message = error.smtp_code, error.smtp_error
    else:
        return "temporary", str(error) or error.__class__.__name__
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    kind = "temporary" if 400 <= int(code) < 500 else "permanent"
    return kind, f"{code} {message}"


class _SmtpClient:
    """An SMTP connection with the shape of the other channels' clients."""

    def __init__(self, target: SmtpTarget):
        self.smtp = target.open()

    def send(self, job: Job) -> None:
        self.smtp.sendmail(job.sender, [job.address], job.data)

    def close(self) -> None:
        _close(self.smtp)


@dataclass(frozen=True)
class SmtpTransport:
    target: SmtpTarget
    channel: str = "email"
    dedupe_window: None = None

    def open(self) -> _SmtpClient:
        return _SmtpClient(self.target)
