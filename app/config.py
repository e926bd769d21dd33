"""Configuration: defaults, the environment, and the instance folder's config.py."""

import base64
import fcntl
import os
import re
import secrets
from pathlib import Path


def instance_path() -> str:
    """The instance folder: HEARTH_INSTANCE, or ./instance beside the code."""
    configured = os.environ.get("HEARTH_INSTANCE")
    if configured:
        return str(Path(configured).resolve())
    return str(Path(__file__).resolve().parent.parent / "instance")


def ensure_secret_key(folder: str) -> None:
    """Write a random SECRET_KEY and SETTINGS_KEY into instance/config.py once (and add a
    SETTINGS_KEY to a config.py written before there was one); secrets never live in the
    repo. The instance folder and the file are for the app's own user only."""
    secure_folder(folder)
    path = Path(folder) / "config.py"
    if not path.exists():
        # Written whole, then linked into place: a worker starting at the same moment sees
        # no file or the whole file, never half of one.
        draft = Path(folder) / f".config.py.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(
                "# Written on first start. Keep this file private; it is not in git.\n"
                f"SECRET_KEY = {secrets.token_hex(32)!r}\n" + _settings_key_lines()
            )
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another worker wrote it first
        finally:
            draft.unlink()
    _ensure_settings_key(path)


def secure_folder(folder: str | Path) -> None:
    """The instance folder (and its subfolders) for the app's own user only."""
    Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(folder, 0o700)
    except PermissionError:  # someone else's folder: leave it as its owner set it
        pass


def private_file(path: str | Path) -> None:
    """A file only the app's own user may read: created empty with mode 600 when missing
    (SQLite takes an empty file for an empty database, and gives its -wal, -shm and
    -journal files the database file's mode), else set to 600."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        for companion in (path, *(Path(f"{path}{end}") for end in ("-wal", "-shm", "-journal"))):
            if companion.exists():
                os.chmod(companion, 0o600)
    except PermissionError:  # someone else's file: leave it as its owner set it
        pass


def _settings_key_lines() -> str:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    return (
        "# Seals the SMS password and LINE secrets in the database and its backups: a backup\n"
        "# restored on another instance needs this same key (keep a copy with the backups).\n"
        f"SETTINGS_KEY = {key!r}\n"
    )


def _ensure_settings_key(path: Path) -> None:
    """Adds SETTINGS_KEY to an older config.py, once, whichever worker starts first."""
    try:
        handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115 - closed below
    except PermissionError:  # a read-only config.py: its owner sets the key
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        text = handle.read()
        if re.search(r"^SETTINGS_KEY\s*=", text, re.MULTILINE):
            return
        handle.seek(0, os.SEEK_END)
        handle.write(("" if text.endswith("\n") or not text else "\n") + _settings_key_lines())
    os.chmod(path, 0o600)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    DEVELOPMENT = os.environ.get("HEARTH_ENV", "production") == "development"
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 15}}
    # Uploads (import sheets): 20 MB is far more than 50,000 rows need.
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024
    # How long a write waits for the lock before giving up (503, "very busy").
    SQLITE_BUSY_TIMEOUT_MS = 15000
    HUEY_FILENAME: str | None = None  # default: instance/huey.sqlite
    REDIS_URL: str | None = os.environ.get("HEARTH_REDIS_URL")  # jobs in Redis when set
    HUEY_IMMEDIATE = False

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Taipei"
    LANGUAGES = {"en": "English", "zh_Hant": "中文"}

    # SMTP connections a campaign is sent over at once (each holds at most one mail that a
    # killed worker leaves "uncertain"); lower it if the mail provider limits connections.
    MAIL_CONNECTIONS = 4

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("HEARTH_COOKIE_SECURE", not DEVELOPMENT)
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    # The sign-in lasts 12 h from signing in (the server checks it too): no need to re-sign
    # and resend the cookie on every request.
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_I18N_ENABLED = False  # WTForms ships Simplified Chinese only; our fields carry messages
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session does

    # How many proxies (nginx) sit in front and set X-Forwarded-*; 0 = believe none.
    PROXY_COUNT = int(os.environ.get("HEARTH_PROXY_COUNT", "0") or 0)

    LOGIN_MAX_FAILURES = 10
    LOGIN_WINDOW_SECONDS = 15 * 60

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "hearth@localhost")
    # Unsubscribe links use the shop setting, else this, else the address staff used when
    # they pressed Send.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    MAIL_RATE_WINDOW_SECONDS = 60  # the shop's limit is per minute
    MAIL_RETRY_BACKOFF = (30, 120, 600)  # seconds before the 2nd, 3rd… try after a 4xx
    CAMPAIGN_RUN_SECONDS = 600  # a send task yields after this long and is rescheduled
    # SMS and LINE: the providers' addresses (None: the real ones). A demo or a test points
    # them at local servers (HEARTH_FAKE_PROVIDERS with `make run`, tests/fakes.py).
    MITAKE_API_BASE = os.environ.get("MITAKE_API_BASE")
    EVERY8D_API_BASE = os.environ.get("EVERY8D_API_BASE")
    LINE_API_BASE = os.environ.get("LINE_API_BASE")
    CHANNEL_TIMEOUT = 15  # seconds per provider call
    SMS_CONNECTIONS = 4
    SMS_RATE_PER_SECOND = 20
    LINE_CONNECTIONS = 4
    LINE_RATE_PER_SECOND = 100
    LINE_MULTICAST_SIZE = 500  # users per multicast request (LINE allows 500)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SETTINGS_KEY = "dGVzdC1zZXR0aW5ncy1rZXktbm90LWZvci1wcm9kISE="  # not for production either
    SESSION_COOKIE_SECURE = False
    HUEY_IMMEDIATE = False  # jobs queue up; tests run them (or a real worker) explicitly
    MAIL_SUPPRESS_SEND = True
    # Any write in a transaction that did not take the write lock first fails loudly.
    SQLITE_STRICT_WRITES = True
    # Werkzeug's scrypt is slow on purpose; tests log in a lot.
    PASSWORD_METHOD = "pbkdf2:sha256:1000"
