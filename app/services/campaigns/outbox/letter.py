"""The campaign mail as bytes: one personal letter, its headers and its two parts."""

import base64
import secrets
from dataclasses import dataclass, field
from email.utils import formataddr, formatdate


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
