"""One keep-alive HTTP(S) connection per sending line, on the standard library's
http.client: the gateways' calls are small form or JSON posts, and at hundreds a second a
general-purpose client's per-request machinery was most of a line's time.

A connection the server closed while idle is noticed before reuse (the socket reads as
ready at EOF) and replaced, so a request is never sent twice because of it."""

import http.client
import json
import select
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from app.services.channels.base import SendError


@dataclass
class Response:
    status: int
    headers: dict  # lower-case names
    text: str

    def json(self) -> dict:
        data = json.loads(self.text or "{}")
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data


class HttpClient:
    def __init__(self, base_url: str, timeout: float = 15.0, headers: dict | None = None):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {base_url!r}")
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _usable(self) -> http.client.HTTPConnection:
        connection = self.connection
        if connection is not None and connection.sock is not None:
            readable, _w, _x = select.select([connection.sock], [], [], 0)
            if readable:  # closed by the server (or stray bytes): start afresh
                connection.close()
                connection = None
        if connection is None:
            connection = self.connection = self._connect()
        return connection

    def request(self, method: str, path: str, *, params: dict | None = None,
                form: dict | None = None, json_body: dict | None = None,
                headers: dict | None = None) -> Response:  # fmt: skip
        url = self.prefix + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        all_headers = {**self.headers, **(headers or {})}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode("ascii")
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            all_headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            connection = self._usable()
            connection.request(method, url, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
        except (ConnectionRefusedError, socket.gaierror) as error:
            # Refused or no such host: the request never left, so nothing was sent.
            self.close()
            problem = "refused" if isinstance(error, ConnectionRefusedError) else "unknown-host"
            raise SendError("down", problem, code="server-down") from None
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise SendError("temporary", f"{type(error).__name__}: {error}") from None
        if response.will_close:
            self.close()
        headers = {key.lower(): value for key, value in response.getheaders()}
        charset = "utf-8"
        for param in headers.get("content-type", "").split(";")[1:]:
            name, _eq, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            text = data.decode(charset, "replace")
        except LookupError:  # a charset Python does not know
            text = data.decode("utf-8", "replace")
        return Response(response.status, headers, text)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None
