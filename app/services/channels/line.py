"""LINE Messaging API: push messages with `X-Line-Retry-Key`, the monthly quota, replies to
webhook events, and the webhook signature check.

LINE accepts a retry key once for 24 hours: a repeated push with it answers 409 and sends
nothing, so a push cut short by a crash is repeated with the same key. The official
`line-bot-sdk` was considered; these five calls and an HMAC do not need its generated
client and its dependencies.
"""

import base64
import hashlib
import hmac
from datetime import timedelta

from app.services.channels.base import SendError, http_error
from app.services.channels.http import HttpClient, Response

LINE_BASE = "https://api.line.me"
MAX_TEXT = 5000  # characters in one text message


def verify_signature(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """X-Line-Signature: base64 of HMAC-SHA256 of the raw request body with the secret."""
    if not channel_secret or not signature:
        return False
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode("ascii"), signature.strip())


def sign(channel_secret: str, body: bytes) -> str:
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _text_messages(text: str) -> list[dict]:
    return [{"type": "text", "text": text[:MAX_TEXT]}]


class LineApi:
    def __init__(self, base_url: str | None, access_token: str, timeout: float = 15.0):
        self.base_url = base_url or LINE_BASE
        self.http = HttpClient(
            self.base_url, timeout, headers={"Authorization": f"Bearer {access_token}"}
        )

    def _error(self, response: Response) -> SendError:
        try:
            message = str(response.json().get("message", ""))
        except ValueError:
            message = response.text[:200]
        if response.status == 429 and "monthly limit" in message.lower():
            # The month's quota is used up.
            return SendError("halt", f"429 {message}", code="429-monthly")
        return http_error(response.status, message, response.headers.get("retry-after"))

    def _post(self, path: str, payload: dict, retry_key: str | None = None) -> Response:
        headers = {"X-Line-Retry-Key": retry_key} if retry_key else {}
        return self.http.request("POST", path, json_body=payload, headers=headers)

    def push(self, user_id: str, text: str, retry_key: str) -> str | None:
        response = self._post(
            "/v2/bot/message/push", {"to": user_id, "messages": _text_messages(text)}, retry_key
        )
        if response.status == 409:
            # Accepted before under this key (a repeat after a crash): nothing sent again.
            return response.headers.get("x-line-accepted-request-id") or "accepted-earlier"
        if response.status != 200:
            raise self._error(response)
        try:
            sent = response.json().get("sentMessages") or [{}]
            return str(sent[0].get("id") or response.headers.get("x-line-request-id") or "")
        except (ValueError, AttributeError, IndexError):
            return response.headers.get("x-line-request-id")

    def multicast(self, user_ids: list[str], text: str, retry_key: str) -> str | None:
        """One message to up to 500 users in one request (the same text for all)."""
        response = self._post(
            "/v2/bot/message/multicast", {"to": user_ids, "messages": _text_messages(text)},
            retry_key,
        )  # fmt: skip
        if response.status == 409:
            return response.headers.get("x-line-accepted-request-id") or "accepted-earlier"
        if response.status != 200:
            raise self._error(response)
        return response.headers.get("x-line-request-id")

    def reply(self, reply_token: str, text: str) -> None:
        response = self._post(
            "/v2/bot/message/reply", {"replyToken": reply_token, "messages": _text_messages(text)}
        )
        if response.status != 200:
            raise self._error(response)

    def profile_name(self, user_id: str) -> str | None:
        """The display name the LINE user chose (None if LINE can't say)."""
        try:
            response = self.http.request("GET", f"/v2/bot/profile/{user_id}")
            if response.status != 200:
                return None
            return str(response.json().get("displayName") or "")[:120] or None
        except (SendError, ValueError):
            return None

    def quota(self) -> dict | None:
        """{"limit": int | None, "used": int}: this month's messages (None if LINE can't be
        asked). limit None: no monthly limit on this plan."""
        try:
            return self.check_quota()
        except SendError:
            return None

    def check_quota(self) -> dict:
        """As quota(), or SendError with LINE's own answer (a 401 for a wrong token)."""
        try:
            quota = self.http.request("GET", "/v2/bot/message/quota")
            if quota.status != 200:
                raise self._error(quota)
            used = self.http.request("GET", "/v2/bot/message/quota/consumption")
            if used.status != 200:
                raise self._error(used)
            data = quota.json()
            limit = data.get("value") if data.get("type") == "limited" else None
            return {"limit": limit, "used": int(used.json().get("totalUsage", 0))}
        except (ValueError, TypeError) as error:
            raise SendError("temporary", f"{type(error).__name__}: {error}") from None

    def close(self) -> None:
        self.http.close()


class _LineClient:
    def __init__(self, transport: "LineTransport"):
        self.api = LineApi(transport.base_url, transport.access_token, transport.timeout)

    def send(self, job) -> str | None:
        return self.api.push(job.address, job.data, job.key)

    def send_many(self, jobs) -> str | None:
        """A group that shares its text and batch key, as one multicast request."""
        return self.api.multicast([job.address for job in jobs], jobs[0].data, jobs[0].batch_key)

    def close(self) -> None:
        self.api.close()


class LineTransport:
    channel = "line"
    name = "line"
    dedupe_window = timedelta(hours=24)

    def __init__(
        self, base_url: str | None, access_token: str, *, timeout: float = 15.0,
        multicast_size: int = 500,
    ):  # fmt: skip
        self.base_url = base_url or LINE_BASE
        self.access_token = access_token or ""
        self.timeout = timeout
        # Messages with the same text for everyone go up to this many per request.
        self.multicast_size = max(1, min(500, int(multicast_size)))

    def open(self) -> _LineClient:
        return _LineClient(self)
