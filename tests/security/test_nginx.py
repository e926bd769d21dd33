"""deploy/nginx-hearth.conf run for real: Debian's nginx with a self-signed certificate in
front of the real web server (HEARTH_PROXY_COUNT=1, as deploy/ sets): HTTPS only, HSTS,
proxy headers believed once, whole bodies buffered by nginx, 413 on huge bodies, static
files served by nginx."""

import getpass
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.config import Config
from app.extensions import db
from tests.conftest import _free_port
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent.parent
SHIPPED = ROOT / "deploy" / "nginx-hearth.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# Not skipped when missing: `make test` installs both (db-deps); a run without them fails here.
assert os.access(NGINX, os.X_OK) and shutil.which("openssl"), (
    "Debian's nginx and openssl are needed: run `make db-deps` (make test does)"
)


def render_site(http_port: int, https_port: int, upstream: int, cert: Path, key: Path) -> str:
    """The shipped site file with the test's ports, certificate, static folder and upstream;
    every other line as shipped."""
    text = SHIPPED.read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/letsencrypt/live/crm.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/crm.example.com/privkey.pem": str(key),
        "/srv/hearth/app/static/": f"{ROOT / 'app' / 'static'}/",
        "http://127.0.0.1:8000;": f"http://127.0.0.1:{upstream};",
    }
    for shipped, value in replacements.items():
        assert text.count(shipped) == 1, f"{shipped!r} is no longer once in {SHIPPED}"
        text = text.replace(shipped, value)
    return text


def main_config(folder: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf gives a site, with every file in `folder` so
    nginx runs as the current user."""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would switch to `nobody`, who may not read the test's files.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    return f"""{user}
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"};
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder / "access.log"};
{temp}
    include {site};
}}
"""


class Front:
    """nginx on two free ports in front of the web server on a third."""

    def __init__(self, folder: Path, upstream: int):
        folder.mkdir()
        self.folder = folder
        self.cert, self.key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.key), "-out", str(self.cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        self.http_port, self.https_port = _free_port(), _free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        site = folder / "hearth.conf"
        site.write_text(render_site(self.http_port, self.https_port, upstream, self.cert, self.key))
        (folder / "nginx.conf").write_text(main_config(folder, site))
        self.context = ssl.create_default_context(cafile=str(self.cert))  # verified, not ignored
        self.process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"),
             "-e", str(folder / "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise AssertionError((folder / "error.log").read_text()[-3000:]) from None
                time.sleep(0.1)

    def opener(self) -> urllib.request.OpenerDirector:
        return urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.context),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )

    def tls_socket(self) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", self.https_port), timeout=10)
        return self.context.wrap_socket(raw, server_hostname="127.0.0.1")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def front(live_app, web_server, tmp_path):
    with live_app.app_context():
        make_user("owner", email="boss@example.com")
        db.session.remove()
    # As deploy/hearth-web.service runs it: one proxy believed, production cookies.
    server = web_server(
        environment={
            "HEARTH_PROXY_COUNT": "1",
            "HEARTH_ENV": "production",
            "HEARTH_WEB_WORKERS": "2",
        }
    )
    proxy = Front(tmp_path / "nginx", server.port)
    proxy.app_server = server
    yield proxy
    proxy.stop()


def app_server_log(front: Front) -> str:
    return front.app_server.log_path.read_text(errors="replace")


def established_connections_to(port: int) -> int:
    """TCP connections the app server has open on its port (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _remote, state = line.split()[1:4]
        if int(local.split(":")[1], 16) == port and state == "01":  # 01: ESTABLISHED
            count += 1
    return count


def test_http_redirects_to_https_and_pages_and_static_files_carry_hsts(front):
    plain = f"http://127.0.0.1:{front.http_port}/login?next=%2F"
    no_redirects = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as moved:
        no_redirects.open(plain, timeout=10)
    moved.value.close()
    assert moved.value.code == 301
    assert moved.value.headers["Location"] == "https://127.0.0.1/login?next=%2F"

    with front.opener().open(front.url + "/login", timeout=10) as page:
        assert page.status == 200
        assert page.headers["Strict-Transport-Security"].startswith("max-age=63072000")
        assert "Secure" in page.headers["Set-Cookie"]  # production cookies over HTTPS
        assert page.headers["Server"] == "nginx"  # no version, and not the app server's name

    # Static files come from nginx's disk read (with its cache header); the app never sees them.
    css = ROOT / "app" / "static" / "css" / "app.css"
    with front.opener().open(front.url + "/static/css/app.css", timeout=10) as static:
        assert static.read() == css.read_bytes()
        assert static.headers["Cache-Control"] == "max-age=604800"
        assert static.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert '"GET /login' in app_server_log(front)
    assert "/static/" not in app_server_log(front)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_forged_forwarded_for_is_replaced_by_the_real_address(front, live_app):
    """A client that claims to be someone else in X-Forwarded-For is still counted at its
    own address by the sign-in limiter (nginx replaces the header, the app believes one hop)."""
    from app.models import LoginAttempt

    browser = front.opener()
    with browser.open(front.url + "/login", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "email": "boss@example.com", "password": "not " + PASSWORD}
    request = urllib.request.Request(
        front.url + "/login",
        data=urllib.parse.urlencode(form).encode(),
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "http",
            "Referer": front.url + "/login",  # a browser's same-origin sign-in form
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        browser.open(request, timeout=10)
    with refused.value:
        assert refused.value.code == 401, refused.value.read().decode()[
            :500
        ]  # not 400: CSRF passed
    with live_app.app_context():
        addresses = db.session.scalars(sa.select(LoginAttempt.ip)).all()
        db.session.remove()
    assert addresses == ["127.0.0.1"]


def test_nginx_buffers_whole_bodies_and_refuses_huge_ones(front):
    upstream = front.app_server.port
    body = urllib.parse.urlencode({"email": "x@example.com", "password": "y" * 2000}).encode()
    head = (
        f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{front.https_port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    before = established_connections_to(upstream)
    with front.tls_socket() as slow:
        slow.sendall(head + body[:1000])
        for offset in range(1000, 1010):  # a slow client: one byte at a time
            time.sleep(0.15)
            slow.sendall(body[offset : offset + 1])
            assert established_connections_to(upstream) <= before, "nginx passed a half body on"
        assert "POST /login" not in app_server_log(front)
        slow.sendall(body[1010:])
        answer = slow.recv(100)
    assert answer.startswith(b"HTTP/1.1 400")  # no CSRF token: the app did answer it
    assert '"POST /login HTTP/1.0" 400' in app_server_log(front)

    limit = Config.MAX_CONTENT_LENGTH
    assert f"client_max_body_size {limit // 2**20}m;" in SHIPPED.read_text()
    with front.tls_socket() as huge:
        huge.sendall(
            b"POST /imports/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
            + f"Content-Length: {limit + 1}\r\n\r\n".encode()
        )
        answer = huge.recv(300)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"Server: nginx\r\n" in answer
    assert "/imports/" not in app_server_log(front)
