"""Fixtures for the security suite: the app served by the real web server (app/web_server.py)."""

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import _free_port, write_worker_config
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent


class WebServer:
    """`make run`'s web server (forked waitress processes) on a test instance folder."""

    def __init__(self, instance: Path, config: dict, environment: dict | None = None):
        from app.serving import web_server_command

        write_worker_config(instance, config)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HEARTH_INSTANCE": str(instance), "HEARTH_ENV": "development"}
        env.update(environment or {})
        self.log_path = instance / "web-server.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            web_server_command(sys.executable, "127.0.0.1", self.port),
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=5).read()
                break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise AssertionError(
                        (instance / "web-server.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.3)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


@pytest.fixture
def web_server(live_app):
    """Start with web_server() once the test has put its data in live_app's database;
    web_server(environment={...}, **config): extra environment variables and config.py values."""
    servers = []

    def start(environment: dict | None = None, **config):
        settings = {
            "SECRET_KEY": live_app.secret_key,
            "SQLALCHEMY_DATABASE_URI": live_app.config["SQLALCHEMY_DATABASE_URI"],
            "HUEY_FILENAME": live_app.config["HUEY_FILENAME"],
            **config,
        }
        server = WebServer(Path(live_app.instance_path), settings, environment)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def http_login(base: str, email: str, password: str = PASSWORD):
    """A cookie-keeping opener signed in as `email`, with its CSRF token for htmx-style posts."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password})
    home = opener.open(f"{base}/login", data=form.encode(), timeout=10).read().decode()
    opener.csrf_token = re.search(
        r"X-CSRFToken[^:]*:\s*[^A-Za-z0-9]*([A-Za-z0-9._-]+)", home
    ).group(1)
    return opener


# ---- a shop with a LINE channel, LINE's API answered by the fake providers -----------------

LINE_SECRET = "line-secret"


@pytest.fixture
def fakes(app):
    from tests.fakes import FakeProviders

    providers = FakeProviders()
    app.config["LINE_API_BASE"] = providers.base_url
    yield providers
    providers.stop()


@pytest.fixture
def line_shop(app, fakes):
    from app.extensions import db
    from app.services.shop import ensure_shop

    shop = ensure_shop(db.session)
    shop.name, shop.default_locale = "小森林", "zh_Hant"
    shop.line_channel_secret, shop.line_access_token = LINE_SECRET, "line-token"
    shop.line_account_id = "@forest"
    db.session.commit()
    return shop
