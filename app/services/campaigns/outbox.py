"""The outbox: a campaign's queued deliveries go out over several SMTP connections at once.

The guarantee, per connection: a delivery is claimed (status "sending", committed) before
its mail is handed to that connection and confirmed ("sent", committed) after; a connection
gets its next delivery only in the commit that confirms its previous one. A worker killed at
any moment therefore leaves at most one "sending" delivery per connection; recovery marks
those "uncertain" for the owner to decide (never resent silently). Nothing confirmed is ever
sent again and nothing queued is dropped.

The mails themselves are written here as bytes (`Letter.as_bytes`): two base64 parts
(plain text and HTML) under RFC 2047 headers. That is all a campaign mail needs, it is
several times cheaper than building `email.message` objects per recipient, and base64 keeps
long lines (a Chinese paragraph) within SMTP's 998-byte limit.
"""

import base64
import queue
import secrets
import smtplib
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, formatdate
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import RawWriter, begin_write
from app.models import Campaign, Customer, CustomField, Delivery, LineLink, TimelineEntry
from app.services.channels.base import SendError

# ---- the mail as bytes ------------------------------------------------------------------------


def _one_line(value) -> str:
    """Header text on one line: CR/LF would let a value add headers of its own."""
    return " ".join(str(value or "").split())


def encoded_words(value: str) -> str:
    """RFC 2047 base64 encoded words of at most 75 characters, never splitting a character,
    folded onto continuation lines."""
    words, chunk = [], b""
    for character in value:
        data = character.encode("utf-8")
        if len(chunk) + len(data) > 45:  # 45 bytes → 60 base64 characters per word
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def header_text(value) -> str:
    value = _one_line(value)
    if value.isascii() and len(value) <= 900:
        return value
    return encoded_words(value)


def envelope_address(address: str) -> str:
    """The address as SMTP carries it: ASCII before the @, the domain in IDNA. Anything else
    (a Chinese local part, spaces, brackets) cannot be sent: UnicodeError / ValueError."""
    address = (address or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an email address")
    if not local.isascii():
        raise UnicodeError("the part before @ is not plain ASCII")
    if any(c in address for c in ' \t\r\n<>,;"()[]\\'):
        raise ValueError("the address has characters mail cannot carry")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def display_address(name: str | None, address: str) -> str:
    name = _one_line(name)
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return f"{encoded_words(name)} <{address}>"


def _base64_lines(text: str) -> bytes:
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")


@dataclass
class Letter:
    """One personal mail: what the preview shows and what the outbox sends."""

    subject: str
    recipients: list  # [(name, address)]: one recipient
    body: str  # plain text
    html: str
    sender: tuple  # (name, address)
    reply_to: str | None = None
    headers: dict = field(default_factory=dict)
    msg_id: str | None = None

    @property
    def address(self) -> str:
        return self.recipients[0][1]

    def envelope(self) -> tuple[str, str]:
        """(from, to) for SMTP; raises UnicodeError/ValueError for addresses mail can't carry."""
        return envelope_address(self.sender[1]), envelope_address(self.address)

    def as_bytes(self, date: str | None = None) -> bytes:
        sender, to = self.envelope()
        name, _address = self.recipients[0]
        boundary = f"=_hearth_{secrets.token_hex(12)}"  # "=_" never occurs in base64
        lines = [
            f"From: {display_address(self.sender[0], sender)}",
            f"To: {display_address(name, to)}",
            f"Subject: {header_text(self.subject)}",
            f"Date: {date or formatdate()}",
        ]
        if self.msg_id:
            lines.append(f"Message-ID: {self.msg_id}")
        if self.reply_to:
            lines.append(f"Reply-To: {envelope_address(self.reply_to)}")
        lines += [f"{key}: {header_text(value)}" for key, value in self.headers.items()]
        lines += [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
        ]
        part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        return b"".join(
            [
                "\r\n".join(lines).encode("ascii"),
                f"\r\n--{boundary}\r\n{part.format('plain')}".encode("ascii"),
                _base64_lines(self.body),
                f"--{boundary}\r\n{part.format('html')}".encode("ascii"),
                _base64_lines(self.html),
                f"--{boundary}--\r\n".encode("ascii"),
            ]
        )


# ---- where mail goes ------------------------------------------------------------------------


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


# ---- the sending loop ---------------------------------------------------------------------------


class RateLimiter:
    """At most `limit` sends in any `window` seconds, counted from the database at start so
    a restart does not reset it. A send holds its slot from hand-out; when it has been
    delivered the slot's time moves to then, so the window counts from the arrival."""

    def __init__(self, limit: int, window: float, recent: list[float]):
        self.limit = max(1, limit)
        self.window = window
        self.sent: deque = deque([moment] for moment in sorted(recent)[-self.limit :])

    held_until = 0.0

    def hold(self, seconds: float) -> None:
        """The provider said "too many" (a 429): nothing more for this long."""
        self.held_until = max(self.held_until, time.time() + seconds)

    def delay(self) -> float:
        """Seconds until one more send fits (0: now)."""
        now = time.time()
        if self.held_until > now:
            return self.held_until - now
        while self.sent and self.sent[0][0] <= now - self.window:
            self.sent.popleft()
        if len(self.sent) < self.limit:
            return 0.0
        return max(0.0, self.sent[0][0] + self.window - now) + 0.001

    def record(self) -> list:
        slot = [time.time()]
        self.sent.append(slot)
        return slot


@dataclass
class _Job:
    delivery_id: int
    customer_id: int
    attempts: int
    subject: str  # what the timeline shows: the subject, or the start of a short message
    sender: str
    address: str
    data: bytes | str  # the mail as bytes; the text of an SMS or a LINE message
    key: str | None = None  # the delivery's idempotency key
    batch_key: str | None = None  # LINE multicast: the request's key, shared by its group
    slot: list = field(default_factory=list)  # its place in the rate limit
    provider_id: str | None = None  # the gateway's id for the message, once sent


class _SmtpClient:
    """An SMTP connection with the shape of the other channels' clients."""

    def __init__(self, target: SmtpTarget):
        self.smtp = target.open()

    def send(self, job: _Job) -> None:
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


@dataclass
class Route:
    """How one channel's deliveries leave: its transport, connections and rate limit."""

    transport: object  # SmtpTransport, channels.MitakeTransport, channels.LineTransport, …
    connections: int = 1
    limit: int = 600  # sends …
    window: float = 60.0  # … per this many seconds


def _keeps_connection(error: Exception) -> bool:
    """After this failure the connection is still good (the server answered)."""
    return isinstance(
        error, SendError | smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
    )


class _NotSent(Exception):
    """The line stopped (pause, cancel, time up) before this job's turn: back to the queue."""


class _Line(threading.Thread):
    """One connection. Takes a list of jobs at a time (one, unless the provider
    de-duplicates) and reports how each went."""

    def __init__(self, number: int, transport, results: queue.SimpleQueue):
        super().__init__(name=f"{transport.channel}-{number}", daemon=True)
        self.transport = transport
        self.results = results
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.client = None
        self.pending = 0  # jobs handed to this line and not reported yet (coordinator's count)
        self.halt = threading.Event()

    def _drop_client(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - a broken connection cannot be closed politely
                pass
        self.client = None

    def run(self) -> None:
        while (batch := self.jobs.get()) is not None:
            if len(batch) > 1 and batch[0].batch_key is not None:
                error = self._send_many(batch)  # one multicast request for the group
                for job in batch:
                    self.results.put((self, job, error))
                continue
            for job in batch:
                self.results.put((self, job, self._send(job)))
        self._drop_client()

    def _send_many(self, jobs: list[_Job]) -> Exception | None:
        if self.halt.is_set():
            return _NotSent()
        try:
            if self.client is None:
                self.client = self.transport.open()
            provider_id = self.client.send_many(jobs)
        except Exception as problem:  # noqa: BLE001 - reported to the coordinator
            if not _keeps_connection(problem):
                self._drop_client()
            return problem
        for job in jobs:
            job.provider_id = provider_id
        return None

    def _send(self, job: _Job) -> Exception | None:
        if self.halt.is_set():
            return _NotSent()
        try:
            if self.client is None:
                self.client = self.transport.open()
            job.provider_id = self.client.send(job)
        except Exception as problem:  # noqa: BLE001 - reported to the coordinator
            if not _keeps_connection(problem):
                self._drop_client()  # the connection broke: a new one next time
            return problem
        return None


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    paused: str | None = None
    by_channel: dict = field(default_factory=dict)  # channel → sent


CHUNK = 200  # deliveries prepared at a time; opt-outs are re-read for every chunk
BATCH_PER_LINE = 20  # deliveries per claim on a line whose provider de-duplicates


def _status(session: Session, campaign_id: int) -> str:
    """The campaign's status now (a read of its own: an open read transaction would keep
    seeing the status as it was when it began)."""
    status = session.scalar(sa.select(Campaign.status).where(Campaign.id == campaign_id))
    session.rollback()
    return status


def _next_chunk(session: Session, campaign_id: int, channel: str, group_size: int = 1) -> list:
    """The next queued, due deliveries of one channel with what their message needs.

    With multicast groups (group_size > 1), groups cut short by a crash come first and
    whole (their request is repeated with its key only if it has the same members), then
    ungrouped ones, enough to fill a group."""
    d, c, link = Delivery.__table__, Customer.__table__, LineLink.__table__
    line_active = (
        sa.exists()
        .where(link.c.user_id == d.c.address, link.c.unfollowed_at.is_(None))
        .label("line_active")
    )
    query = (
        sa.select(
            d.c.id,
            d.c.address,
            d.c.recipient_name,
            d.c.attempts,
            d.c.idempotency_key,
            c.c.id.label("customer_id"),
            c.c.display_name,
            c.c.nickname,
            c.c.member_number,
            c.c.email_opt_out,
            c.c.sms_opt_out,
            line_active if channel == "line" else sa.true().label("line_active"),
            d.c.batch_key,
        )  # fmt: skip
        .join(c, c.c.id == d.c.customer_id)
        .where(
            d.c.campaign_id == campaign_id,
            d.c.channel == channel,
            d.c.status == "queued",
            sa.or_(d.c.next_attempt_at.is_(None), d.c.next_attempt_at <= utcnow()),
        )
    )
    if group_size > 1:
        grouped = session.execute(
            query.where(d.c.batch_key.is_not(None)).order_by(d.c.batch_key, d.c.id)
        ).all()
        if grouped:
            return list(grouped)
        query = query.where(d.c.batch_key.is_(None))
    return list(session.execute(query.order_by(d.c.id).limit(max(CHUNK, group_size))))


def _opted_out(channel: str, row) -> str | None:
    """Why this delivery must not go any more (the person opted out after the snapshot)."""
    if channel == "email" and row.email_opt_out:
        return "opted_out"
    if channel == "sms" and row.sms_opt_out:
        return "sms_opted_out"
    if channel == "line" and not row.line_active:
        return "line_unfollowed"
    return None


class _Writes:
    """What the next commit writes: confirmations, failures, retries, skips and claims."""

    def __init__(self):
        self.sent: list[_Job] = []
        self.outcomes: list[dict] = []  # {"id", "status", "error", "next_attempt_at", ...}
        self.claims: list[tuple[_Line, _Job]] = []

    def __bool__(self) -> bool:
        return bool(self.sent or self.outcomes or self.claims)


# Plain SQL through the driver: these run thousands of times per campaign.
_CONFIRM = (
    "UPDATE delivery SET status = 'sent', sent_at = ?, error = NULL, provider_id = ? WHERE id = ?"
)
_ENTRY = (
    "INSERT INTO timeline_entry (customer_id, kind, body, created_at, action, pinned) "
    "VALUES (?, ?, ?, ?, 'campaign', FALSE)"
)
_CONTACT = (
    "UPDATE customer SET last_contact_at = ? WHERE id = ? "
    "AND (last_contact_at IS NULL OR last_contact_at < ?)"
)
_CLAIM = (
    "UPDATE delivery SET status = 'sending', claimed_at = ?, attempts = attempts + 1 "
    "WHERE status = 'queued' AND id IN ({}) RETURNING id"
)
_GROUP = "UPDATE delivery SET batch_key = ? WHERE id = ? AND status = 'queued'"
_OUTCOME = (
    "UPDATE delivery SET status = ?, error = ?, skip_reason = ?, next_attempt_at = ?, "
    "attempts = attempts - ? WHERE id = ? AND status IN ('queued', 'sending')"
)


class _Ledger:
    """The coordinator's own database connection for what it writes per message.

    Plain driver calls on a pooled connection of the app's engine (configured like every
    other: WAL, busy timeout, foreign keys): at hundreds of commits a second the ORM
    session's per-statement bookkeeping was a good part of the sending loop's time. The
    session still does everything else (status checks, reading the next chunk)."""

    def __init__(self, session: Session, channel: str):
        self._pooled = session.get_bind().raw_connection()
        self.db = RawWriter(self._pooled.driver_connection, session.get_bind().dialect.name)
        self.channel = channel

    def commit(self, writes: _Writes) -> list[tuple["_Line", _Job]]:
        """One transaction for everything decided since the last; returns the claims that won."""
        db = self.db
        _stamp = db.stamp
        now = _stamp(utcnow())
        db.begin()
        try:
            if writes.sent:
                db.executemany(_CONFIRM, [(now, j.provider_id, j.delivery_id) for j in writes.sent])
                db.executemany(
                    _ENTRY, [(j.customer_id, self.channel, j.subject, now) for j in writes.sent]
                )
                db.executemany(_CONTACT, [(now, j.customer_id, now) for j in writes.sent])
            if writes.outcomes:
                db.executemany(
                    _OUTCOME,
                    [(o["status"], o["error"], o["skip_reason"],
                      _stamp(o["next_attempt_at"]) if o["next_attempt_at"] else None,
                      o["uncount"], o["id"])
                     for o in writes.outcomes],
                )  # fmt: skip
            won = []
            grouped = [
                (job.batch_key, job.delivery_id) for _l, job in writes.claims if job.batch_key
            ]
            if grouped:
                db.executemany(_GROUP, grouped)
            if writes.claims:
                ids = [job.delivery_id for _line, job in writes.claims]
                sql = _CLAIM.format(", ".join("?" * len(ids)))
                claimed = {row[0] for row in db.fetch(sql, (now, *ids))}
                won = [(line, job) for line, job in writes.claims if job.delivery_id in claimed]
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return won

    def close(self) -> None:
        self._pooled.close()  # back to the pool


def _outcome(delivery_id: int, status: str, error: str | None = None, **extra) -> dict:
    return {"id": delivery_id, "status": status, "error": error, "skip_reason": None,
            "next_attempt_at": None, "uncount": 0, **extra}  # fmt: skip


def _classify_any(error: Exception) -> tuple[str, str, float | None]:
    """(kind, what the provider said, seconds to wait) for a failed send on any channel."""
    if isinstance(error, SendError):
        return error.kind, error.text[:500], error.retry_after
    kind, text = classify_failure(error)
    return kind, text, None


def _queued_channels(session: Session, campaign_id: int) -> list[str]:
    found = set(
        session.scalars(
            sa.select(Delivery.channel)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == "queued")
            .distinct()
        )
    )
    session.rollback()
    return [channel for channel in ("email", "sms", "line") if channel in found]


def send_campaign(
    session: Session,
    campaign_id: int,
    settings,
    target: SmtpTarget,
    secret_key: str,
    *,
    stop_after: float | None = None,
    connections: int = 1,
    routes: dict | None = None,
) -> SendReport:
    """Sends the campaign's queued, due deliveries, one channel after another: email over
    `connections` SMTP connections to `target`, SMS and LINE by their `routes`.

    Returns when nothing is left to send now, when the campaign is paused or cancelled, or
    after `stop_after` seconds (deliveries waiting for a retry are picked up by a later run).
    """
    import dataclasses

    from app.services.campaigns import TemplateProblem, check_template
    from app.services.shop import get_shop

    report = SendReport()
    shop = get_shop(session)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in ("queued", "sending"):
        return report
    begin_write(session)
    campaign.status = "sending"
    session.commit()
    try:
        check_template(
            campaign.subject + "\n" + campaign.body + "\n" + (campaign.short_text or ""),
            set(session.scalars(sa.select(CustomField.key))),
        )
    except TemplateProblem as problem:
        # Checked at compose time too; a custom field deleted since, say. Nothing is sent.
        _pause(session, campaign_id, f"the template cannot be used: {problem}")
        report.paused = f"the template cannot be used: {problem}"
        return report
    if not settings.base_url:
        settings = dataclasses.replace(settings, base_url=campaign.base_url or "http://localhost")
    routes = dict(routes or {})
    routes.setdefault(
        "email",
        Route(SmtpTransport(target), connections, settings.rate_per_window,
              settings.window_seconds),
    )  # fmt: skip
    # Plain copies: ORM objects are expired at every commit and would reload per message.
    plain = SimpleNamespace(
        id=campaign.id,
        subject=campaign.subject,
        body=campaign.body,
        short_text=campaign.short_text or campaign.body,
    )
    shop = SimpleNamespace(kind=shop.kind, name=shop.name)
    started = time.monotonic()
    for channel in _queued_channels(session, campaign_id):
        route = routes.get(channel)
        if route is None or route.transport is None:
            report.paused = f"{channel} is not set up"
            break
        left = None if stop_after is None else stop_after - (time.monotonic() - started)
        if left is not None and left <= 0:
            break
        _send_channel(session, plain, shop, channel, route, settings, secret_key, report, left)
        if report.paused or _status(session, campaign_id) != "sending":
            break
    if report.paused:
        _pause(session, campaign_id, report.paused)
    _maybe_finish(session, campaign_id)
    return report


def _send_channel(session, campaign, shop, channel, route, settings, secret_key, report,
                  stop_after) -> None:  # fmt: skip
    """The sending loop for one channel's deliveries (see the module's guarantee)."""
    _ChannelSend(session, campaign, shop, channel, route, settings, secret_key, report,
                 stop_after).run()  # fmt: skip


class _ChannelSend:
    """One channel's sending loop: rows are prepared into jobs, claimed in the commit that
    confirms the connection's last ones, sent by the connections (`_Line`s), and what they
    report is written by the next commit."""

    def __init__(self, session, campaign, shop, channel, route, settings, secret_key, report,
                 stop_after):  # fmt: skip
        from app.services.campaigns import template_is_constant

        self.session, self.campaign, self.shop, self.channel = session, campaign, shop, channel
        self.settings, self.secret_key, self.report = settings, secret_key, report
        self.stop_after = stop_after
        self.campaign_id = campaign.id
        window_start = utcnow() - timedelta(seconds=route.window)
        recent = [
            (moment - datetime(1970, 1, 1)).total_seconds()
            for moment in session.scalars(
                sa.select(Delivery.sent_at).where(
                    Delivery.sent_at >= window_start, Delivery.channel == channel
                )
            )
        ]
        session.rollback()
        self.limiter = RateLimiter(route.limit, route.window, recent)
        # Where the provider recognises a repeated key, a crash costs nothing but a repeat it
        # refuses: each line takes several deliveries per claim and confirmations are gathered
        # (fewer commits). Elsewhere one at a time: at most one uncertain per connection.
        self.per_line = 1 if route.transport.dedupe_window is None else BATCH_PER_LINE
        # LINE multicast: when the text is the same for everyone (no merge fields), a line
        # sends a group of up to multicast_size users in one request under one key.
        group_size = getattr(route.transport, "multicast_size", 1)
        self.multicast = (
            channel == "line" and group_size > 1 and template_is_constant(campaign.short_text)
        )
        if self.multicast:
            self.per_line = group_size
        self.ledger = _Ledger(session, channel)
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.lines = [
            _Line(number, route.transport, self.results)
            for number in range(max(1, route.connections))
        ]
        for line in self.lines:
            line.start()
        self.idle: list[_Line] = list(self.lines)
        self.in_flight = 0
        self.rows: deque = deque()
        self.values_by_customer: dict = {}
        self.writes = _Writes()
        self.consecutive_failures = 0
        self.started = self.last_check = self.last_flush = time.monotonic()
        self.handed_since_check = 0
        self.stop = False
        self.date = (0, "")  # (second, RFC 2822 date): one formatdate() per second

    # ---- what the connections report ----

    def take(self, line, job, error) -> None:
        """A connection's report: sent (confirm), or failed (retry later or give up)."""
        self.in_flight -= 1
        line.pending -= 1
        if line.pending == 0:
            self.idle.append(line)
        if job.slot:
            job.slot[0] = time.time()  # the window counts from when it was delivered
        if isinstance(error, _NotSent):
            self.writes.outcomes.append(_outcome(job.delivery_id, "queued", None, uncount=1))
            return
        if error is None:
            self.writes.sent.append(job)
            self.consecutive_failures = 0
            self.report.sent += 1
            by_channel = self.report.by_channel
            by_channel[self.channel] = by_channel.get(self.channel, 0) + 1
            return
        self._failed(job, *_classify_any(error))

    def _failed(self, job, kind: str, text: str, wait: float | None) -> None:
        from app.services.campaigns import RETRY_LIMIT

        outcomes, report = self.writes.outcomes, self.report
        attempts = job.attempts + 1
        if kind == "later":
            # Rate-limited: this one waits (not a failed attempt) and so does the channel.
            wait = 1.0 if wait is None else min(max(wait, 0.0), 60.0)
            self.limiter.hold(wait)
            outcomes.append(_outcome(job.delivery_id, "queued", text, uncount=1,
                                     next_attempt_at=utcnow() + timedelta(seconds=wait)))  # fmt: skip
            report.retried += 1
            return
        if kind == "halt":
            # Nothing will go until the owner acts: this one waits, the campaign pauses.
            outcomes.append(_outcome(job.delivery_id, "queued", text, uncount=1))
            if not report.paused:
                report.paused = f"{self.channel}: {text}"[:500]
            self.stop = True
            return
        if kind == "temporary" and attempts < RETRY_LIMIT:
            if wait is None:
                backoff = self.settings.retry_backoff or (0,)
                wait = backoff[min(attempts - 1, len(backoff) - 1)]
            outcomes.append(_outcome(job.delivery_id, "queued", text,
                                     next_attempt_at=utcnow() + timedelta(seconds=wait)))  # fmt: skip
            report.retried += 1
        else:
            outcomes.append(_outcome(job.delivery_id, "failed", text))
            report.failed += 1
        self.fail_once(text)

    def fail_once(self, text: str) -> None:
        self.consecutive_failures += 1
        report = self.report
        if (
            self.consecutive_failures >= self.settings.max_consecutive_failures
            and not report.paused
        ):
            report.paused = f"{self.consecutive_failures} failures in a row; last: {text}"[:500]
            self.stop = True

    def drain(self, block: bool, timeout: float = 1.0) -> None:
        """Takes what the connections reported (waiting up to `timeout` for one if `block`)."""
        try:
            while True:
                self.take(*self.results.get(block=block, timeout=timeout if block else None))
                block = False
        except queue.Empty:
            pass

    # ---- preparing jobs ----

    def build(self, row) -> _Job:
        from app.services.campaigns import build_message, build_short_message

        values = self.values_by_customer[row.customer_id]
        campaign, shop, settings, key = self.campaign, self.shop, self.settings, self.secret_key
        if self.channel != "email":
            text = build_short_message(campaign, row, shop, settings, values, key,
                                       customer_id=row.customer_id)  # fmt: skip
            return _Job(row.id, row.customer_id, row.attempts, text[:300], "", row.address, text,
                        row.idempotency_key)  # fmt: skip
        letter = build_message(campaign, row, row, shop, settings, values, key,
                               customer_id=row.customer_id)  # fmt: skip
        second = int(time.time())
        if self.date[0] != second:
            self.date = (second, formatdate(second))
        sender, address = letter.envelope()
        data = letter.as_bytes(self.date[1])
        return _Job(row.id, row.customer_id, row.attempts, letter.subject, sender, address, data,
                    row.idempotency_key)  # fmt: skip

    def prepare(self, row) -> _Job | None:
        """The job for one row, or None (skipped or failed here, written with the next commit)."""
        from app.services.campaigns import TemplateProblem

        reason = _opted_out(self.channel, row)
        if reason:  # opted out after the snapshot
            self.writes.outcomes.append(_outcome(row.id, "skipped", None) | {"skip_reason": reason})
            self.report.skipped += 1
            return None
        try:
            return self.build(row)
        except TemplateProblem as problem:
            # This recipient's values push the template past its bounds (or break it):
            # this one fails, the others carry on; many in a row pause.
            text = f"template: {problem}"[:500]
        except (UnicodeError, ValueError) as error:
            text = _classify_any(error)[1]
        self.writes.outcomes.append(_outcome(row.id, "failed", text))
        self.report.failed += 1
        self.fail_once(text)
        return None

    # ---- the loop ----

    def check(self) -> bool:
        """Stops (returns True) when the campaign was paused or cancelled, or time is up."""
        now = time.monotonic()
        if not self.stop and (now - self.last_check > 0.5 or self.handed_since_check >= 1000):
            self.last_check, self.handed_since_check = now, 0
            if _status(self.session, self.campaign_id) != "sending":
                self.stop = True
        if self.stop_after is not None and now - self.started > self.stop_after:
            self.stop = True
        if self.stop:
            for line in self.lines:
                line.halt.set()  # what a line still holds goes back to the queue
        return self.stop

    def flush(self, force: bool = True) -> None:
        """Commits what was decided; hands the claims that won to their connections. In
        batches (per_line > 1) confirmations wait for claims, 100 of them, or 50 ms."""
        writes = self.writes
        if not writes:
            return
        if not (force or writes.claims or len(writes.sent) + len(writes.outcomes) >= 100
                or time.monotonic() - self.last_flush > 0.05):  # fmt: skip
            return
        asked = writes.claims
        won = self.ledger.commit(writes)
        self.last_flush = time.monotonic()
        self.writes = _Writes()
        batches: dict[int, tuple[_Line, list]] = {}
        for line, job in won:
            batches.setdefault(id(line), (line, []))[1].append(job)
        for line, jobs in batches.values():
            line.pending += len(jobs)
            line.jobs.put(jobs)
            self.in_flight += len(jobs)
            self.handed_since_check += len(jobs)
        unused = {id(line): line for line, _job in asked if id(line) not in batches}
        self.idle.extend(unused.values())

    def fill(self, line) -> int:
        """Claims up to per_line rows for this connection; how many it took."""
        rows, limiter = self.rows, self.limiter
        taken, group, regroup = 0, None, False
        while rows and taken < self.per_line and (taken == 0 or limiter.delay() == 0):
            if self.multicast:
                # A group cut short by a crash goes again whole, under its key; a new group
                # takes its first delivery's key.
                if group is None:
                    group = rows[0].batch_key or rows[0].idempotency_key
                    regroup = rows[0].batch_key is not None
                elif rows[0].batch_key != (group if regroup else None):
                    break
            job = self.prepare(rows.popleft())
            if job is not None:
                job.batch_key = group
                job.slot = limiter.record()
                self.writes.claims.append((line, job))
                taken += 1
        return taken

    def hand_out(self) -> None:
        """New work for idle connections, claimed in the commit that confirms their last."""
        while not self.stop and self.idle and self.rows and not self.check():
            delay = self.limiter.delay()
            if delay > 0:  # the rate limit: confirm what is done, then wait a little
                self.flush()
                time.sleep(min(delay, 0.2))
                self.drain(block=False)
                continue
            line = self.idle.pop()
            if self.fill(line) == 0:
                self.idle.append(line)

    def refill(self) -> None:
        """More rows when these are used up (after the commit: claimed ones are gone)."""
        from app.services.campaigns import custom_values_for

        if self.rows or self.stop:
            return
        batch = self.per_line if self.multicast else 1
        chunk = _next_chunk(self.session, self.campaign_id, self.channel, batch)
        if chunk:
            self.values_by_customer = custom_values_for(
                self.session, [row.customer_id for row in chunk]
            )
            self.rows.extend(chunk)
        # No read transaction stays open: its snapshot would hide the ledger's writes.
        self.session.commit()

    def run(self) -> None:
        try:
            while True:
                # 1. What the connections report (wait for them when there is nothing else).
                waiting = self.in_flight > 0 and (self.stop or not self.idle or not self.rows)
                if waiting and not self.writes:
                    self.drain(block=True)
                elif waiting and self.per_line > 1:
                    self.drain(block=True, timeout=0.05)  # gathered confirmations within 50 ms
                else:
                    self.drain(block=False)
                # 2. Pause, cancel and the time slice take effect within half a second.
                self.check()
                # 3. New work for idle connections.
                self.hand_out()
                self.flush(force=self.per_line == 1 or self.stop or self.in_flight == 0)
                # 4. More rows.
                self.refill()
                if self.in_flight == 0 and not self.writes and (self.stop or not self.rows):
                    break
        finally:
            self.finish()

    def finish(self) -> None:
        """Whatever the connections finished is confirmed; the rest stays "sending" and is
        marked uncertain (or, where the provider de-duplicates, re-sent) at the next start."""
        for line in self.lines:
            line.jobs.put(None)
        deadline = time.monotonic() + 30
        while self.in_flight and time.monotonic() < deadline:
            try:
                self.take(*self.results.get(timeout=1.0))
            except queue.Empty:
                continue
        self.writes.claims = []
        try:
            if self.writes:
                self.ledger.commit(self.writes)
        finally:
            self.ledger.close()
        for line in self.lines:
            line.join(5)


def _pause(session: Session, campaign_id: int, reason: str) -> None:
    begin_write(session)
    paused = session.get(Campaign, campaign_id)
    if paused.status == "sending":
        paused.status = "paused"
        paused.pause_reason = reason
    session.commit()


def _maybe_finish(session: Session, campaign_id: int) -> None:
    begin_write(session)
    campaign = session.get(Campaign, campaign_id)
    if campaign.status == "sending":
        left = session.scalar(
            sa.select(sa.func.count()).where(
                Delivery.campaign_id == campaign_id, Delivery.status.in_(("queued", "sending"))
            )
        )
        if not left:
            campaign.status = "done"
            campaign.finished_at = utcnow()
    session.commit()


def next_retry_in(session: Session, campaign_id: int) -> float | None:
    """Seconds until the earliest waiting retry, if the campaign still has some."""
    moment = session.scalar(
        sa.select(sa.func.min(Delivery.next_attempt_at)).where(
            Delivery.campaign_id == campaign_id, Delivery.status == "queued"
        )
    )
    if moment is None:
        queued = session.scalar(
            sa.select(sa.func.count()).where(
                Delivery.campaign_id == campaign_id, Delivery.status == "queued"
            )
        )
        return 0.0 if queued else None
    return max(0.0, (moment - utcnow()).total_seconds())


__all__ = [
    "Letter",
    "Route",
    "SendReport",
    "SmtpTarget",
    "SmtpTransport",
    "TimelineEntry",
    "send_campaign",
    "send_one",
]
