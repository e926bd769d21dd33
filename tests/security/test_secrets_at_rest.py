"""Secrets at rest: the SMS password and LINE's channel secret and token are sealed with the
instance's SETTINGS_KEY in the database and its backups (yet SMS and LINE still send); the
instance folder, database, queue and backups are for the app's own user only; a backup
restored under another key asks the owner to enter the secrets again."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.extensions import db
from app.services.shop import ensure_shop
from tests.campaigns.test_channels import (  # noqa: F401 - fixtures
    _campaign,
    _family,
    _send,
    _shop,
    channel_app,
    fakes,
)
from tests.conftest import login
from tests.factories import make_tag, make_user

ROOT = Path(__file__).resolve().parent.parent.parent
SMS_PASSWORD = "sms-Pa55word-7f3c9e"
LINE_SECRET = "line-SECRET-9a6e0f"
LINE_TOKEN = "line-TOKEN-4b8d21c7"
SECRETS = (SMS_PASSWORD, LINE_SECRET, LINE_TOKEN)


def _enter_secrets(client, password=SMS_PASSWORD, secret=LINE_SECRET, token=LINE_TOKEN):
    form = {"sms_provider": "mitake", "sms_username": "shop", "sms_password": password,
            "sms_sender": "", "sms_part_price": "1", "line_account_id": "forest",
            "line_channel_secret": secret, "line_access_token": token}  # fmt: skip
    assert client.post("/settings/channels", data=form).status_code == 302


def _stored() -> dict:
    """The columns as the database holds them (not through the model)."""
    db.session.rollback()
    return dict(
        db.session.execute(
            sa.text("SELECT sms_password, line_channel_secret, line_access_token FROM shop")
        )
        .mappings()
        .one()
    )


def _database_bytes(app) -> bytes:
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        return b""  # PostgreSQL's files are the server's; _stored() shows what it holds
    database = Path(url.database)
    return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))


def test_channel_secrets_are_sealed_in_the_database_and_backups_yet_sms_and_line_send(
    channel_app,  # noqa: F811 - the fixture imported above
    fakes,  # noqa: F811
    tmp_path,
):
    fakes.state.sms_password, fakes.state.line_token = SMS_PASSWORD, LINE_TOKEN
    _shop()
    owner = make_user("owner")
    client = channel_app.test_client()
    login(client, owner)
    _enter_secrets(client)

    stored = _stored()
    assert all(value for value in stored.values())
    assert not any(secret in value for value in stored.values() for secret in SECRETS)
    on_disk = _database_bytes(channel_app)
    assert not any(secret.encode() in on_disk for secret in SECRETS)
    backup = tmp_path / "backup" / "hearth.bak"
    result = channel_app.test_cli_runner().invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    data = backup.read_bytes()
    assert len(data) > 10_000 and not any(secret.encode() in data for secret in SECRETS)

    # Nobody reading the shop sees the sealed text; the providers get the real secrets.
    db.session.expire_all()
    shop = ensure_shop(db.session)
    assert (shop.sms_password, shop.line_channel_secret, shop.line_access_token) == SECRETS
    tag = make_tag("班")
    _family(1, line=True, preferred="line", tag=tag)
    _family(2, preferred="sms", tag=tag)
    campaign, _audience = _campaign(channels="line,sms", use_preferred=True)
    report = _send(channel_app, campaign)
    assert (report.sent, report.failed) == (2, 0)
    assert len(fakes.state.line) == 1 and len(fakes.state.sms) == 1


def test_a_backup_restored_under_another_key_asks_for_the_secrets_again(
    channel_app,  # noqa: F811 - the fixture imported above
    fakes,  # noqa: F811
    tmp_path,
):
    fakes.state.sms_password, fakes.state.line_token = SMS_PASSWORD, LINE_TOKEN
    _shop()
    owner = make_user("owner")
    client = channel_app.test_client()
    login(client, owner)
    _enter_secrets(client)
    backup = tmp_path / "hearth.bak"
    runner = channel_app.test_cli_runner()
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    db.session.remove()
    db.engine.dispose()
    assert runner.invoke(args=["restore", str(backup), "--yes"]).exit_code == 0
    # This instance's key is not the one the backup was sealed with.
    channel_app.config["SETTINGS_KEY"] = Fernet.generate_key().decode()
    owner = db.session.merge(owner)
    login(client, owner)

    page = client.get("/settings/channels")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "cannot be read with this instance’s key" in text
    assert "The saved password cannot be read with this instance’s key; enter it again." in text
    assert "SMS is not set up yet." in text and "LINE is not set up yet." in text
    assert not any(secret in text for secret in SECRETS)
    chinese = client.get("/settings/channels", headers={"Accept-Language": "zh-TW"})
    assert "無法用這個系統的金鑰" in chinese.get_data(as_text=True)
    # Nothing is sent with what cannot be read, and nothing fails with a 500.
    assert client.get("/").status_code == 200
    hook = client.post("/hooks/line", data=b'{"events": []}', content_type="application/json",
                       headers={"X-Line-Signature": "bm90IGEgc2lnbmF0dXJl"})  # fmt: skip
    assert hook.status_code == 400
    # Saving other settings keeps the sealed values (the right key could still open them).
    sealed = _stored()
    _enter_secrets(client, password="", secret="", token="")
    assert _stored() == sealed
    # Entered again, they work.
    _enter_secrets(client)
    text = client.get("/settings/channels").get_data(as_text=True)
    assert "Balance at the gateway: 10000" in text and "This month: 0 of 1000" in text
    assert "cannot be read" not in text


def test_the_migration_seals_secrets_saved_in_clear(app):
    from flask_migrate import downgrade, upgrade

    shop = ensure_shop(db.session)
    shop.sms_password, shop.line_channel_secret, shop.line_access_token = SECRETS
    db.session.commit()
    db.session.remove()
    downgrade(revision="f8a9b0c1d2e3")  # as the database was: in clear
    assert tuple(_stored().values()) == SECRETS
    db.session.remove()
    upgrade()
    assert not any(secret in value for value in _stored().values() for secret in SECRETS)
    db.session.expire_all()
    shop = ensure_shop(db.session)
    assert (shop.sms_password, shop.line_channel_secret, shop.line_access_token) == SECRETS


def _flask(instance: Path, *arguments: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi …` as an admin would run it, with the usual umask (022)."""
    env = {**os.environ, "HEARTH_INSTANCE": str(instance)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *arguments], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only
def test_the_instance_folder_database_queue_and_backups_are_private(tmp_path):
    instance = tmp_path / "instance"
    created = _flask(instance, "db", "upgrade")
    assert created.returncode == 0, created.stderr[-2000:]
    backup = _flask(instance, "backup")
    assert backup.returncode == 0, backup.stderr[-2000:]
    elsewhere = _flask(instance, "backup", str(tmp_path / "copies" / "hearth.sqlite"))
    assert elsewhere.returncode == 0, elsewhere.stderr[-2000:]
    assert _mode(instance) == 0o700
    files = [instance / "config.py", instance / "hearth.sqlite", instance / "huey.sqlite",
             *instance.glob("hearth.sqlite-*"), *(instance / "backups").glob("*.sqlite"),
             tmp_path / "copies" / "hearth.sqlite"]  # fmt: skip
    assert len(list((instance / "backups").glob("*.sqlite"))) == 1
    assert {str(path.relative_to(tmp_path)): _mode(path) for path in files} == {
        str(path.relative_to(tmp_path)): 0o600 for path in files
    }
    assert _mode(instance / "backups") == 0o700
    assert "SETTINGS_KEY = " in (instance / "config.py").read_text()
    # SQLite gives the -wal and -shm files it makes the database file's mode.
    connection = sqlite3.connect(instance / "hearth.sqlite")
    try:
        connection.execute("CREATE TABLE probe (x)")
        connection.commit()
        companions = [Path(f"{instance / 'hearth.sqlite'}{end}") for end in ("-wal", "-shm")]
        assert [_mode(path) for path in companions] == [0o600, 0o600]
    finally:
        connection.close()


@pytest.mark.sqlite_only
def test_an_older_instance_gets_a_settings_key_and_private_files(tmp_path, migrated_db):
    """Made before this: config.py without SETTINGS_KEY, files readable by everyone."""
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    (instance / "config.py").write_text("SECRET_KEY = 'an-older-secret-key'\n")
    database = instance / "hearth.sqlite"
    database.write_bytes(Path(migrated_db).read_bytes())
    for path in (instance / "config.py", database):
        os.chmod(path, 0o644)
    result = _flask(instance, "db", "upgrade")
    assert result.returncode == 0, result.stderr[-2000:]
    config = (instance / "config.py").read_text()
    assert config.startswith("SECRET_KEY = 'an-older-secret-key'\n")
    assert config.count("SETTINGS_KEY = ") == 1
    assert (_mode(instance), _mode(instance / "config.py"), _mode(database)) == (
        0o700,
        0o600,
        0o600,
    )
    assert _flask(instance, "db", "current").returncode == 0
    assert (instance / "config.py").read_text() == config  # the key is written once
