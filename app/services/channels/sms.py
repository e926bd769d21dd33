"""SMS through a Taiwanese gateway's HTTP API: Mitake (三竹) and Every8d (互動資通).

Mitake recognises a repeated `clientid` for about 12 hours and answers `Duplicate=Y`
instead of sending again, so a send cut short by a crash is repeated with the same key.
Every8d has no such key: a cut-short send there is "uncertain" for the owner.
"""

import re
from datetime import timedelta

from app.services.channels.base import SendError, http_error
from app.services.channels.http import HttpClient

# ---- numbers and parts ----------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-().‧·]")


def normalise_mobile(value: str | None) -> str | None:
    """A Taiwanese mobile number as 09xxxxxxxx, or None when it is not one
    (0912-345-678, 0912 345 678, +886 912 345 678, +886-0912345678, 886912345678)."""
    digits = _SEPARATORS.sub("", (value or "").strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("886"):
            return None
    if digits.startswith("00886"):
        digits = digits[2:]
    if digits.startswith("886"):
        digits = digits[3:]
        if digits.startswith("0"):
            digits = digits[1:]
        digits = "0" + digits
    if re.fullmatch(r"09\d{8}", digits):
        return digits
    return None


# GSM 03.38: the basic set, and the extension set whose characters take two places.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def sms_parts(text: str) -> dict:
    """{"characters", "parts", "unicode", "per_part"}: how a gateway bills the text.
    Latin (GSM) text fits 160 per message, 153 per part when split; anything else (Chinese)
    70, and 67 per part when split."""
    text = text or ""
    unicode = any(c not in _GSM_BASIC and c not in _GSM_EXTENDED for c in text)
    if unicode:
        length = sum(2 if ord(c) > 0xFFFF else 1 for c in text)  # UTF-16 code units
        single, multi = 70, 67
    else:
        length = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    if length == 0:
        parts = 0
    elif length <= single:
        parts = 1
    else:
        parts = -(-length // multi)
    return {
        "characters": len(text),
        "parts": parts,
        "unicode": unicode,
        "per_part": single if parts <= 1 else multi,
    }


# ---- Mitake ---------------------------------------------------------------------------------

MITAKE_BASE = "https://smsapi.mitake.com.tw"
# statuscode: 0-4 accepted; letters and 5-9 are refusals. Some mean "nothing will go until
# the owner acts" (the account), some "this one never will" (the number), some "try later".
_MITAKE_OK = {"0", "1", "2", "4"}
_MITAKE_HALT = {"c", "d", "e", "f", "h", "k", "m", "n", "p", "s"}
_MITAKE_LATER = {"*", "a", "b", "r"}


def mitake_error(fields: dict[str, str]) -> SendError:
    """Mitake's refusal (statuscode and its Error text) as the outbox reads it."""
    code = fields.get("statuscode", "")
    text = f"statuscode={code} {fields.get('Error', '')}".strip()
    if code in _MITAKE_HALT:
        return SendError("halt", text, code=code)
    if code in _MITAKE_LATER:
        return SendError("temporary", text, code=code)
    return SendError("permanent", text, code=code)


def parse_mitake(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


class _MitakeClient:
    def __init__(self, transport: "MitakeTransport"):
        self.transport = transport
        self.http = HttpClient(transport.base_url, transport.timeout)

    def send(self, job) -> str | None:
        t = self.transport
        form = {
            "username": t.username,
            "password": t.password,
            "dstaddr": job.address,
            "smbody": job.data,
            "clientid": job.key,
        }
        if t.receipt_address is not None and job.key:
            form["response"] = t.receipt_address(job.key)
        response = self.http.request(
            "POST", "/api/mtk/SmSend", params={"CharsetURL": "UTF-8"}, form=form
        )
        if response.status != 200:
            raise http_error(response.status, response.text[:200],
                             response.headers.get("retry-after"))  # fmt: skip
        fields = parse_mitake(response.text)
        code = fields.get("statuscode", "")
        if code in _MITAKE_OK:
            return fields.get("msgid")
        raise mitake_error(fields)

    def close(self) -> None:
        self.http.close()


class MitakeTransport:
    channel = "sms"
    name = "mitake"
    dedupe_window = timedelta(hours=12)

    def __init__(self, base_url, username, password, *, receipt_address=None, timeout=15.0):
        """receipt_address(key): where Mitake reports the receipt of the message sent under
        that key (each message its own address), or None for no receipts."""
        self.base_url = base_url or MITAKE_BASE
        self.username = username or ""
        self.password = password or ""
        self.receipt_address = receipt_address
        self.timeout = timeout

    def open(self) -> _MitakeClient:
        return _MitakeClient(self)

    def balance(self) -> float | None:
        """Points left on the account (None when the gateway cannot be asked)."""
        try:
            return self.check_balance()
        except SendError:
            return None

    def check_balance(self) -> float:
        """Points left on the account, or SendError with Mitake's refusal (statuscode=e for
        a wrong account or password) or why it could not be asked."""
        client = HttpClient(self.base_url, 5)
        try:
            response = client.request(
                "POST", "/api/mtk/SmQuery",
                form={"username": self.username, "password": self.password},
            )  # fmt: skip
            if response.status != 200:
                raise http_error(response.status, response.text[:200])
            fields = parse_mitake(response.text)
            if fields.get("AccountPoint") is None:
                raise mitake_error(fields)
            return float(fields["AccountPoint"])
        except ValueError as error:
            raise SendError("temporary", f"{type(error).__name__}: {error}") from None
        finally:
            client.close()


# ---- Every8d --------------------------------------------------------------------------------

EVERY8D_BASE = "https://api.e8d.tw"


def every8d_error(answer: str) -> SendError:
    """Every8d's "-code,message" refusal as the outbox reads it."""
    text = answer.strip()[:200]
    code = text.split(",")[0]
    if code in ("-99", "-100"):
        return SendError("temporary", text, code=code)
    if code in ("-1", "-2", "-3", "-4", "-5", "-8"):
        return SendError("halt", text, code=code)  # account, password, credit
    return SendError("permanent", text, code=code)


class _Every8dClient:
    def __init__(self, transport: "Every8dTransport"):
        self.transport = transport
        self.http = HttpClient(transport.base_url, transport.timeout)

    def send(self, job) -> str | None:
        t = self.transport
        form = {"UID": t.username, "PWD": t.password, "SB": t.subject, "MSG": job.data,
                "DEST": job.address, "ST": ""}  # fmt: skip
        response = self.http.request("POST", "/API21/HTTP/sendSMS.ashx", form=form)
        if response.status != 200:
            raise http_error(response.status, response.text[:200],
                             response.headers.get("retry-after"))  # fmt: skip
        # "CREDIT,SENDED,COST,UNSEND,BATCH_ID" or "-code,message" on refusal.
        fields = response.text.strip().split(",")
        if fields and fields[0].startswith("-"):
            raise every8d_error(response.text)
        if len(fields) >= 5 and fields[1] == "0":
            raise SendError("permanent", f"not sent: {response.text.strip()[:200]}")
        return fields[4] if len(fields) >= 5 else None

    def close(self) -> None:
        self.http.close()


class Every8dTransport:
    channel = "sms"
    name = "every8d"
    dedupe_window = None

    def __init__(self, base_url, username, password, *, subject="", timeout=15.0):
        self.base_url = base_url or EVERY8D_BASE
        self.username = username or ""
        self.password = password or ""
        self.subject = subject or ""
        self.timeout = timeout

    def open(self) -> _Every8dClient:
        return _Every8dClient(self)

    def balance(self) -> float | None:
        try:
            return self.check_balance()
        except SendError:
            return None

    def check_balance(self) -> float:
        """The credit left, or SendError with Every8d's "-code,message" refusal."""
        client = HttpClient(self.base_url, 5)
        try:
            response = client.request(
                "POST", "/API21/HTTP/getCredit.ashx",
                form={"UID": self.username, "PWD": self.password},
            )  # fmt: skip
            if response.status != 200:
                raise http_error(response.status, response.text[:200])
            if response.text.strip().startswith("-"):
                raise every8d_error(response.text)
            return float(response.text.strip())
        except ValueError as error:
            raise SendError("temporary", f"{type(error).__name__}: {error}") from None
        finally:
            client.close()
