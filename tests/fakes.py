"""Small real HTTP servers on 127.0.0.1 that follow the providers' documented contracts, as
the aiosmtpd sink does for mail: Mitake's and Every8d's SMS HTTP APIs and LINE's Messaging
API (push with X-Line-Retry-Key, reply, quota), plus a helper that calls an app's LINE
webhook with a properly signed body.

    python -m tests.fakes 8025   # all three on one port, for a demo (see README)
"""

import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _parts(text: str) -> int:
    unicode = any(ord(c) > 127 for c in text)
    single, multi = (70, 67) if unicode else (160, 153)
    return 1 if len(text) <= single else -(-len(text) // multi)


class Providers:
    """State of the three fake providers. Everything delivered is in `sms` and `line`
    (one dict per message that reached a handset); repeats recognised by their key are
    counted in `duplicates_refused`."""

    def __init__(self):
        self.lock = threading.Lock()
        # Mitake / Every8d
        self.sms_username, self.sms_password = "shop", "secret"
        self.points = 10_000.0
        self.sms: list[dict] = []
        self.mitake_keys: dict[str, str] = {}  # clientid → msgid
        self.send_receipts = False
        # LINE
        self.line_token = "line-token"
        self.line: list[dict] = []
        self.replies: list[dict] = []
        self.retry_keys: dict[str, str] = {}  # X-Line-Retry-Key → request id
        self.monthly_limit: int | None = 1000
        self.used = 0
        self.rate_per_second: int | None = None  # LINE 429 above this
        self._window: list[float] = []
        self.rate_limited = 0
        self.multicasts = 0
        # both
        self.delay = 0.0  # seconds per send (a kill lands mid-send)
        self.requests = 0
        self.duplicates_refused = 0
        self.server_errors_next = 0  # answer 500 to the next N sends

    # ---- Mitake ----
    def mitake_send(self, form: dict) -> str:
        if form.get("username") != self.sms_username or form.get("password") != self.sms_password:
            return "[1]\r\nstatuscode=e\r\nError=Account or password incorrect\r\n"
        number, body = form.get("dstaddr", ""), form.get("smbody", "")
        key = form.get("clientid") or ""
        with self.lock:
            if key and key in self.mitake_keys:
                self.duplicates_refused += 1
                return (f"[1]\r\nmsgid={self.mitake_keys[key]}\r\nstatuscode=1\r\n"
                        f"AccountPoint={int(self.points)}\r\nDuplicate=Y\r\n")  # fmt: skip
            if not re.fullmatch(r"09\d{8}", number):
                return "[1]\r\nstatuscode=v\r\nError=Invalid phone number\r\n"
            if not body:
                return "[1]\r\nstatuscode=u\r\nError=Message body is empty\r\n"
            cost = _parts(body)
            if self.points < cost:
                return "[1]\r\nstatuscode=s\r\nError=Not enough points\r\n"
            self.points -= cost
            msgid = f"M{len(self.sms) + 1:09d}"
            if key:
                self.mitake_keys[key] = msgid
            self.sms.append({"provider": "mitake", "to": number, "text": body, "key": key,
                             "msgid": msgid, "at": time.time(),
                             "response": form.get("response")})  # fmt: skip
        receipt = form.get("response")
        if receipt and self.send_receipts:
            threading.Thread(
                target=self._receipt, args=(receipt, msgid, number), daemon=True
            ).start()
        return f"[1]\r\nmsgid={msgid}\r\nstatuscode=1\r\nAccountPoint={int(self.points)}\r\n"

    def _receipt(self, url: str, msgid: str, number: str) -> None:
        query = urllib.parse.urlencode({"msgid": msgid, "dstaddr": number, "statuscode": "4",
                                        "statusstr": "DELIVRD", "StatusFlag": "4"})  # fmt: skip
        try:
            urllib.request.urlopen(f"{url}?{query}", timeout=5).read()
        except OSError:
            pass

    # ---- Every8d ----
    def every8d_send(self, form: dict) -> str:
        if form.get("UID") != self.sms_username or form.get("PWD") != self.sms_password:
            return "-2,帳號或密碼錯誤"
        number, body = form.get("DEST", ""), form.get("MSG", "")
        if not re.fullmatch(r"(09\d{8}|\+8869\d{8})", number):
            return "-6,手機號碼格式錯誤"
        with self.lock:
            cost = _parts(body)
            if self.points < cost:
                return "-5,餘額不足"
            self.points -= cost
            batch = str(uuid.uuid4())
            self.sms.append({"provider": "every8d", "to": number, "text": body, "key": None,
                             "msgid": batch, "at": time.time()})  # fmt: skip
        return f"{self.points:.1f},1,{cost:.1f},0,{batch}"

    # ---- LINE ----
    def line_push(self, headers, payload) -> tuple[int, dict, dict]:
        return self._line_send(headers, payload, multicast=False)

    def line_multicast(self, headers, payload) -> tuple[int, dict, dict]:
        return self._line_send(headers, payload, multicast=True)

    def _line_send(self, headers, payload, multicast: bool) -> tuple[int, dict, dict]:
        key = headers.get("X-Line-Retry-Key")
        if key is not None and not _UUID.match(key):
            return 400, {"message": "The value of the X-Line-Retry-Key header is invalid"}, {}
        with self.lock:
            if key and key in self.retry_keys:
                self.duplicates_refused += 1
                return (409, {"message": "The retry key is already accepted",
                              "sentMessages": [{"id": self.retry_keys[key]}]},
                        {"x-line-accepted-request-id": self.retry_keys[key]})  # fmt: skip
            now = time.time()
            if self.rate_per_second:
                self._window = [t for t in self._window if t > now - 1]
                if len(self._window) >= self.rate_per_second:
                    self.rate_limited += 1
                    return 429, {"message": "The API rate limit has been exceeded. "
                                            "Try again later."}, {}  # fmt: skip
                self._window.append(now)
            to, messages = payload.get("to"), payload.get("messages")
            users = to if multicast else [to]
            if multicast:
                self.multicasts += 1
            if (not isinstance(users, list) or not 1 <= len(users) <= 500
                    or not all(isinstance(u, str) and re.fullmatch(r"U[0-9a-f]{32}", u) for u in users)):  # fmt: skip
                return 400, {"message": "The property, 'to', in the request body is invalid"}, {}
            if (
                not isinstance(messages, list)
                or not 1 <= len(messages) <= 5
                or any(
                    m.get("type") != "text" or not 0 < len(m.get("text", "")) <= 5000
                    for m in messages
                )
            ):
                return 400, {"message": "The request body has 1 error(s)"}, {}
            if self.monthly_limit is not None and self.used + len(users) > self.monthly_limit:
                return 429, {"message": "You have reached your monthly limit."}, {}
            request_id = uuid.uuid4().hex
            if key:
                self.retry_keys[key] = request_id
            for user in users:
                message_id = str(10**17 + len(self.line))
                self.used += 1
                self.line.append({"to": user, "text": messages[0]["text"], "key": key,
                                  "id": message_id, "at": now})  # fmt: skip
        if multicast:
            return 200, {}, {"x-line-request-id": request_id}
        return 200, {"sentMessages": [{"id": message_id, "quoteToken": "q"}]}, {
            "x-line-request-id": request_id}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, as a real server's do
    providers: Providers

    def log_message(self, *_args):
        pass

    def _answer(self, status: int, body, headers=None, content_type="text/plain") -> None:
        data = (
            body
            if isinstance(body, bytes)
            else (
                json.dumps(body).encode() if isinstance(body, dict) else str(body).encode("utf-8")
            )
        )
        if isinstance(body, dict):
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _sending(self) -> bool:
        """Counts a send, waits the configured delay; False when a 500 is due."""
        p = self.providers
        with p.lock:
            p.requests += 1
            fail = p.server_errors_next > 0
            if fail:
                p.server_errors_next -= 1
        if p.delay:
            time.sleep(p.delay)
        if fail:
            self._answer(500, "Internal Server Error")
        return not fail

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def _route(self, method: str):
        p = self.providers
        url = urllib.parse.urlsplit(self.path)
        body = self._body() if method == "POST" else b""
        form = {
            k: v[0]
            for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()
        }
        if url.path == "/api/mtk/SmSend":
            if self._sending():
                self._answer(200, p.mitake_send(form))
        elif url.path == "/api/mtk/SmQuery":
            if (form.get("username"), form.get("password")) != (p.sms_username, p.sms_password):
                self._answer(200, "statuscode=e\r\nError=Account or password incorrect\r\n")
            else:
                self._answer(200, f"AccountPoint={int(p.points)}\r\n")
        elif url.path == "/API21/HTTP/sendSMS.ashx":
            if self._sending():
                self._answer(200, p.every8d_send(form))
        elif url.path == "/API21/HTTP/getCredit.ashx":
            if (form.get("UID"), form.get("PWD")) != (p.sms_username, p.sms_password):
                self._answer(200, "-2,帳號或密碼錯誤")
            else:
                self._answer(200, f"{p.points:.1f}")
        elif url.path == "/_stats":  # for benchmarks running the fakes in their own process
            with p.lock:
                stats = {"sms": len(p.sms), "line": len(p.line), "requests": p.requests,
                         "duplicates_refused": p.duplicates_refused}  # fmt: skip
            self._answer(200, stats)
        elif url.path.startswith("/v2/bot/"):
            self._line(url.path, method, body)
        else:
            self._answer(404, "not found")

    def _line(self, path: str, method: str, body: bytes):
        p = self.providers
        if self.headers.get("Authorization") != f"Bearer {p.line_token}":
            self._answer(401, {"message": "Authentication failed. Confirm that the access "
                                          "token in the authorization header is valid."})  # fmt: skip
            return
        if path == "/v2/bot/message/quota":
            limit = p.monthly_limit
            self._answer(200, {"type": "limited", "value": limit} if limit is not None
                         else {"type": "none"})  # fmt: skip
        elif path == "/v2/bot/message/quota/consumption":
            self._answer(200, {"totalUsage": p.used})
        elif path.startswith("/v2/bot/profile/"):
            self._answer(200, {"displayName": "家長 " + path.rsplit("/", 1)[-1][-4:],
                               "userId": path.rsplit("/", 1)[-1]})  # fmt: skip
        elif path in ("/v2/bot/message/push", "/v2/bot/message/multicast") and method == "POST":
            if not self._sending():
                return
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                self._answer(400, {"message": "The request body has 1 error(s)"})
                return
            send = p.line_multicast if path.endswith("multicast") else p.line_push
            status, answer, headers = send(self.headers, payload)
            self._answer(status, answer, headers)
        elif path == "/v2/bot/message/reply" and method == "POST":
            payload = json.loads(body or b"{}")
            with p.lock:
                p.replies.append(payload)
            self._answer(200, {"sentMessages": [{"id": "1", "quoteToken": "q"}]})
        else:
            self._answer(404, {"message": "Not found"})


class FakeProviders:
    """All three providers on one port: base_url for MITAKE_API_BASE, EVERY8D_API_BASE and
    LINE_API_BASE."""

    def __init__(self, port: int = 0):
        self.state = Providers()
        handler = type("Handler", (_Handler,), {"providers": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def line_user_id(n: int) -> str:
    return "U" + hashlib.md5(str(n).encode()).hexdigest()  # noqa: S324 - an id, not a secret


def call_webhook(app_url: str, channel_secret: str, events: list[dict], signature=None) -> int:
    """POSTs a LINE webhook body to the app as LINE does (X-Line-Signature); the status."""
    body = json.dumps({"destination": "Uffffffffffffffffffffffffffffffff", "events": events},
                      ensure_ascii=False).encode("utf-8")  # fmt: skip
    if signature is None:
        digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
        signature = base64.b64encode(digest).decode()
    request = urllib.request.Request(
        f"{app_url}/hooks/line", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Line-Signature": signature},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def follow_event(user_id: str) -> dict:
    return {"type": "follow", "mode": "active", "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user_id}, "replyToken": uuid.uuid4().hex,
            "webhookEventId": uuid.uuid4().hex, "deliveryContext": {"isRedelivery": False}}  # fmt: skip


def unfollow_event(user_id: str) -> dict:
    event = follow_event(user_id)
    event["type"] = "unfollow"
    event.pop("replyToken")
    return event


def text_event(user_id: str, text: str) -> dict:
    event = follow_event(user_id)
    event["type"] = "message"
    event["message"] = {"type": "text", "id": uuid.uuid4().hex[:18], "text": text}
    return event


if __name__ == "__main__":
    import os

    fakes = FakeProviders(int(sys.argv[1]) if len(sys.argv) > 1 else 8025)
    fakes.state.points = float(os.environ.get("FAKE_SMS_POINTS", fakes.state.points))
    if os.environ.get("FAKE_LINE_NO_LIMIT"):
        fakes.state.monthly_limit = None
    print(f"Fake SMS and LINE providers at {fakes.base_url} (SMS account shop/secret, "
          f"LINE token line-token)", flush=True)  # fmt: skip
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fakes.stop()
