"""Fixtures: app on a real SQLite file, client, login helpers, live server, Chromium."""

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app import create_app
from app.config import TestConfig
from devtools.postgres import PostgresServer
from tests.factories import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


_BUILT: list = []  # apps built by the running test, released after it


@pytest.fixture(autouse=True)
def _release_built_apps():
    yield
    while _BUILT:
        release(_BUILT.pop())


def postgres_wanted() -> bool:
    """The suite runs on SQLite; HEARTH_TEST_DATABASE=postgresql runs it on PostgreSQL."""
    return os.environ.get("HEARTH_TEST_DATABASE", "sqlite") == "postgresql"


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """One database built by the real migrations, copied for every test: a SQLite file, or
    (HEARTH_TEST_DATABASE=postgresql) a template database on a PostgreSQL server that this
    test process started."""
    folder = tmp_path_factory.mktemp("template")
    os.environ["HEARTH_INSTANCE"] = str(folder)
    server = None
    if postgres_wanted():
        server = PostgresServer()
        template = server.create_database()
        url = server.url(template)
    else:
        url = f"sqlite:///{folder / 'hearth.sqlite'}"
    app = create_app({**_test_config(), "SQLALCHEMY_DATABASE_URI": url})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    if server is None:
        yield folder / "hearth.sqlite"
        return
    yield PostgresTemplate(server, template)
    server.stop()


class PostgresTemplate:
    def __init__(self, server, name: str):
        self.server, self.name = server, name

    def fresh_url(self) -> str:
        return self.server.url(self.server.create_database(self.name))


def release(app) -> None:
    """Closes the app's connections; drops its PostgreSQL database if it had one. Every app
    a test built is released after it (see _release_built_apps); calling it twice is fine."""
    from app.extensions import db

    if app.config.get("TEST_RELEASED"):
        return
    app.config["TEST_RELEASED"] = True

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for connection in app.extensions.get("test_connections", []):
        connection.close()  # psycopg: a no-op when already closed
    template = app.config.get("TEST_POSTGRES_TEMPLATE")
    if template is not None:
        from sqlalchemy.engine import make_url

        template.server.drop_database(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)


def _keep_track_of_connections(app) -> None:
    """Every PostgreSQL connection the app's engine opens, so that release() can close
    those a test left checked out (a session of one app used inside another's context, a
    thread that never returned its connection): psycopg warns when it collects an open
    connection, and the warning then fails whichever later test is running."""
    import sqlalchemy as sa

    from app.extensions import db

    opened = app.extensions["test_connections"] = []
    with app.app_context():
        sa.event.listen(db.engine, "connect", lambda connection, _record: opened.append(connection))


def _test_config() -> dict:
    return {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}


class EnglishClient(FlaskClient):
    """A test client whose browser asks for English, as most of the assertions read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


def build_app(tmp_path: Path, migrated_db: Path, **overrides):
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    extra = {}
    if "SQLALCHEMY_DATABASE_URI" in overrides:  # another app on an existing database
        url = overrides["SQLALCHEMY_DATABASE_URI"]
    elif isinstance(migrated_db, PostgresTemplate):
        url = migrated_db.fresh_url()
        extra["TEST_POSTGRES_TEMPLATE"] = migrated_db
    else:
        database = instance / "hearth.sqlite"
        shutil.copy(migrated_db, database)
        url = f"sqlite:///{database}"
    os.environ["HEARTH_INSTANCE"] = str(instance)
    _DATABASES[str(instance.resolve())] = url
    config = {
        **_test_config(),
        **extra,
        "SQLALCHEMY_DATABASE_URI": url,
        "HUEY_FILENAME": str(instance / "huey.sqlite"),
        "WTF_CSRF_ENABLED": False,
        **overrides,
    }
    app = create_app(config)
    app.test_client_class = EnglishClient
    _BUILT.append(app)
    if postgres_wanted():
        _keep_track_of_connections(app)

    @app.before_request
    def _fresh_transaction():
        # A real request starts with a new session; here the test's reads may have left a
        # (deferred) transaction open, which a write would then have to upgrade.
        from app.extensions import db

        db.session.rollback()

    @app.teardown_request
    def _like_production(_exc):
        # Tests keep one app context open, which Flask reuses for every request: drop what
        # a real request would lose at its end (uncommitted changes, g's caches).
        from flask import g

        from app.extensions import db

        db.session.rollback()
        for key in list(g):
            g.pop(key)

    return app


@pytest.fixture
def app(tmp_path, migrated_db):
    app = build_app(tmp_path, migrated_db)
    with app.app_context():
        yield app
    release(app)


@pytest.fixture
def csrf_app(tmp_path, migrated_db):
    """The app with CSRF protection on, as in production."""
    app = build_app(tmp_path, migrated_db, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
    release(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def owner(app):
    return make_user("owner", email="boss@example.com", name="Boss")


@pytest.fixture
def frontdesk(app):
    return make_user("frontdesk", email="desk@example.com", name="Desk")


@pytest.fixture
def teacher(app):
    return make_user("teacher", email="teach@example.com", name="Teach")


def login(client, user, password: str = PASSWORD):
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"] != "/setup", "no owner yet: create one first"
    return response


@pytest.fixture
def login_as(client):
    def _login(user):
        login(client, user)
        return client

    return _login


# ---- browser tests -------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The app on a real port. On exit it stops taking requests and waits for those under
    way: the browser may still ask for something (a favicon, an htmx poll) on a kept-alive
    connection after the test, and such a request must not reach an app whose database is
    being dropped (it fails half-way and leaves its open file to a later test's warnings)."""

    def __init__(self, app):
        self.app = app
        self.busy = 0
        self.closed = False
        self.changed = threading.Condition()
        self.server = make_server("127.0.0.1", 0, self._counted, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _counted(self, environ, start_response):
        with self.changed:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
            self.busy += 1
        try:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]  # the whole answer, while counted as under way
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            with self.changed:
                self.busy -= 1
                self.changed.notify_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        with self.changed:
            self.closed = True
            self.changed.wait_for(lambda: self.busy == 0, timeout=10)
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_app(tmp_path, migrated_db):
    app = build_app(tmp_path, migrated_db, WTF_CSRF_ENABLED=True)
    yield app
    release(app)


@pytest.fixture
def live_server(live_app):
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture
def demo_shop(live_app):
    """The demo shop (as `flask demo` makes it) in the live server's database."""
    from app.extensions import db
    from devtools.demo import seed_demo

    with live_app.app_context():
        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=12)
        db.session.commit()
        db.session.remove()


@pytest.fixture
def demo_staff(live_app):
    """Only the demo shop's staff logins, no customers: tests that count need a clean shop."""
    from app.extensions import db
    from devtools.demo import seed_demo

    with live_app.app_context():
        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=0)
        db.session.commit()
        db.session.remove()


def browser_login(page, server, email: str, password: str = "hearth-demo-1"):
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")


def wait_for_htmx(page, selector: str) -> None:
    """Waits until htmx has taken up the element (after a swap it does so when the new
    content settles): typing into a box before then triggers nothing, as for a person who
    types within the same few milliseconds."""
    page.wait_for_function(
        "selector => { const el = document.querySelector(selector);"
        " return !!(el && el['htmx-internal-data'] && el['htmx-internal-data'].initHash); }",
        arg=selector,
    )


# ---- mail: a real SMTP server, and real worker processes ---------------------------------


class SinkHandler:
    """aiosmtpd handler that keeps what it receives and can refuse on demand."""

    def __init__(self):
        self.messages: list[tuple[float, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}  # address -> "550 No such user"
        self.refuse_all: str | None = None
        self.temporary_once: dict[str, str] = {}  # address -> "451 Try later" (first time only)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_all:
            return self.refuse_all
        if address in self.refuse:
            return self.refuse[address]
        if address in self.temporary_once:
            return self.temporary_once.pop(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import time

        with self.lock:
            self.messages.append((time.time(), list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self):
        import email
        from email import policy

        return [
            email.message_from_bytes(content, policy=policy.default)
            for _t, _r, content in self.messages
        ]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


def mail_config(smtp_server) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_DEFAULT_SENDER": "shop@example.com",
        "MAIL_RETRY_BACKOFF": (0, 0, 0),
        "MAIL_RATE_WINDOW_SECONDS": 2,  # the shop's "per minute" limit, per 2 s: faster tests
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    }


# instance folder -> the test app's database URL, so its worker processes use the same one.
_DATABASES: dict[str, str] = {}


def write_worker_config(instance: Path, config: dict) -> None:
    """instance/config.py for a worker process, matching the test app's settings (and its
    database: a SQLite file in the folder or the test's PostgreSQL database)."""
    database = _DATABASES.get(str(Path(instance).resolve()))
    if database and "SQLALCHEMY_DATABASE_URI" not in config:
        config = {**config, "SQLALCHEMY_DATABASE_URI": database}
    # The key the test app seals settings with (a worker would otherwise make its own).
    config = {"SETTINGS_KEY": TestConfig.SETTINGS_KEY, **config}
    lines = [f"{key} = {value!r}" for key, value in config.items()]
    (instance / "config.py").write_text("\n".join(lines) + "\n")


@pytest.fixture
def outbox_app(tmp_path, migrated_db, smtp_server):
    """The app wired to the real SMTP sink and a real (not immediate) job queue."""
    config = {**mail_config(smtp_server), "HUEY_IMMEDIATE": False}
    app = build_app(tmp_path, migrated_db, **config)
    write_worker_config(
        Path(app.instance_path),
        {**config, "SECRET_KEY": app.secret_key,
         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
    )  # fmt: skip
    with app.app_context():
        yield app
    release(app)


class Workers:
    """Starts `flask --app wsgi worker` processes on an instance folder; kills them at the end."""

    def __init__(self, instance: Path):
        self.instance = instance
        self.processes: list = []

    def start(self):
        import subprocess
        import sys

        env = {**os.environ, "HEARTH_INSTANCE": str(self.instance)}
        log = open(self.instance / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "2"],
            cwd=Path(__file__).resolve().parent.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        self.processes.append(process)
        return process

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)


@pytest.fixture
def workers(outbox_app):
    pool = Workers(Path(outbox_app.instance_path))
    yield pool
    pool.stop_all()


# ---- which database a test runs on ---------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself")
    config.addinivalue_line("markers", "postgres_only: about PostgreSQL (or Redis) itself")


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL pass leaves out what is about the SQLite file (it ran in the SQLite
    pass), and the SQLite pass what is about PostgreSQL."""
    unwanted = "sqlite_only" if postgres_wanted() else "postgres_only"
    kept = [item for item in items if item.get_closest_marker(unwanted) is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
