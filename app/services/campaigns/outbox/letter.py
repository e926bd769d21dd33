"""The campaign mail as bytes: one personal letter, its headers and its two parts."""

import base64
import functools
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.charset import BASE64, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

# CRLF line ends; a header is folded only past SMTP's 998 bytes, so a long List-Unsubscribe
# stays one plain line (folding it would turn the address into encoded words).
POLICY = SMTP.clone(max_line_length=998)
# Encoded words in base64, like the text parts (utf-8's default, "shortest", measures
# quoted-printable too, character by character: most of a letter's time).
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = BASE64
_BODY = {"plain": b"\0plain\0", "html": b"\0html\0"}  # where each letter's own text goes


def _one_line(value) -> str:
    """Header text on one line: CR/LF would let a value add headers of its own."""
    return " ".join(str(value or "").split())


@functools.lru_cache(maxsize=1024)  # a subject without merge fields: encoded once
def header_text(name: str, value) -> str:
    """A header's value as mail carries it: plain ASCII as it is, anything else as the
    standard library's RFC 2047 encoded words, folded."""
    value = _one_line(value)
    if value.isascii() and len(value) <= 900:
        return value
    return Header(value, _UTF8, header_name=name).encode(linesep="\r\n")


@functools.lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def mail_date(second: float, zone: str = "Asia/Taipei") -> str:
    """The Date header in the shop's own offset ("Mon, 07 Dec 2026 23:40:00 +0800"): a
    "-0000" (zone unknown) is one of the things spam filters hold against a mail."""
    return format_datetime(datetime.fromtimestamp(int(second), _zone(zone)))


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
    return f"{header_text('To', name)} <{address}>"


@functools.lru_cache(maxsize=16)
def stationery(sender_name: str, sender: str, reply_to: str | None) -> tuple[bytes, ...]:
    """What every letter from this sender shares, written once by EmailMessage rather than
    per letter (it costs milliseconds a letter; the bench sends hundreds a second): From,
    Reply-To and the multipart/alternative frame of a plain text and an HTML part, both
    base64. Returns (the From and Reply-To lines, the frame up to the plain text, the frame
    between the two texts, its end)."""
    letter = EmailMessage(policy=POLICY)
    name = _one_line(sender_name)
    letter["From"] = Address(name, addr_spec=sender) if name else sender
    if reply_to:
        letter["Reply-To"] = reply_to
    letter.set_content("", cte="base64")
    letter.add_alternative("", subtype="html", cte="base64")
    for part in letter.iter_parts():
        part.set_payload(_BODY[part.get_content_subtype()].decode("ascii"))
    written = letter.as_bytes()
    senders, frame = written.split(b"MIME-Version:", 1)
    before_plain, rest = (b"MIME-Version:" + frame).split(_BODY["plain"] + b"\r\n")
    between, end = rest.split(_BODY["html"] + b"\r\n")
    return senders, before_plain, between, end


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
    timezone: str = "Asia/Taipei"  # the shop's: its Date header carries that offset

    @property
    def address(self) -> str:
        return self.recipients[0][1]

    def envelope(self) -> tuple[str, str]:
        """(from, to) for SMTP; raises UnicodeError/ValueError for addresses mail can't carry."""
        return envelope_address(self.sender[1]), envelope_address(self.address)

    def as_bytes(self, date: str | None = None) -> bytes:
        sender, to = self.envelope()
        reply_to = envelope_address(self.reply_to) if self.reply_to else None
        senders, before_plain, between, end = stationery(self.sender[0], sender, reply_to)
        lines = [
            f"To: {display_address(self.recipients[0][0], to)}",
            f"Subject: {header_text('Subject', self.subject)}",
            f"Date: {date or mail_date(time.time(), self.timezone)}",
        ]
        if self.msg_id:
            lines.append(f"Message-ID: {self.msg_id}")
        lines += [f"{key}: {header_text(key, value)}" for key, value in self.headers.items()]
        lines.append("")
        return b"".join(
            [senders, "\r\n".join(lines).encode("ascii"), before_plain,
             _base64_lines(self.body), between, _base64_lines(self.html), end]
        )  # fmt: skip
