"""What only PostgreSQL (and Redis) have: pg_dump backups and restores, the write lock,
jobs kept in Redis. Run by `make test` in its PostgreSQL pass (HEARTH_TEST_DATABASE)."""

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import begin_write, dialect_of
from app.extensions import db
from app.models import Customer
from tests.factories import make_customer

pytestmark = pytest.mark.postgres_only


def test_the_app_runs_on_postgresql(app):
    assert dialect_of(db.session) == "postgresql"
    customer = make_customer("王小明", phone="0912-345-678")
    assert customer.member_number == "M000001"
    assert make_customer("林小華").member_number == "M000002"


def test_hand_made_indexes_exist_and_serve_their_queries(app):
    """The birthday month-day index and the search indexes, as the migrations make them on
    PostgreSQL (SQLite's are checked in test_migrations)."""
    names = set(db.session.scalars(sa.text("SELECT indexname FROM pg_indexes")))
    assert {"ix_customer_birthday_md", "ix_customer_search_bigrams",
            "ix_timeline_entry_bigrams"} <= names  # fmt: skip
    # The pg_trgm and expression indexes the bigram column replaced are gone.
    assert not names & {"ix_customer_search_tri", "ix_customer_search_grams",
                        "ix_timeline_entry_tri", "ix_timeline_entry_grams"}  # fmt: skip
    from app.db import month_day

    query = sa.select(Customer.id).where(month_day(Customer.birthday) == "12-24")
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    db.session.execute(sa.text("SET enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
    assert "ix_customer_birthday_md" in plan, plan


def test_backup_and_restore_with_pg_dump(app, tmp_path):
    make_customer("備份前")
    runner = app.test_cli_runner()
    target = tmp_path / "copy.pgdump"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:5] == b"PGDMP"
    make_customer("備份後")
    db.session.remove()
    db.engine.dispose()
    instance = Path(app.instance_path)
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    names = set(db.session.scalars(sa.select(Customer.display_name)))
    assert "備份前" in names and "備份後" not in names
    # The restored database is whole: search and new numbers still work.
    from app.services.search import search

    assert [c.display_name for c in search(db.session, "備份").customers] == ["備份前"]
    assert make_customer("還原後").member_number == "M000002"
    junk = instance / "junk.pgdump"
    junk.write_bytes(b"not a dump")
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0 and "not a pg_dump backup" in result.output


def test_writers_take_turns_like_on_sqlite(app):
    """begin_write holds the write lock until commit: a second writer waits for it."""
    make_customer("First")
    order: list[str] = []
    begin_write(db.session)
    db.session.execute(sa.update(Customer).values(summary="one"))
    order.append("first has the lock")

    def second():
        with app.app_context():
            begin_write(db.session)
            order.append("second has the lock")
            db.session.rollback()
            db.session.remove()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    order.append("first commits")
    db.session.commit()
    thread.join(10)
    assert order == ["first has the lock", "first commits", "second has the lock"]


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed: run `make test` (it installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="hearth-redis-")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait(5)
    shutil.rmtree(folder, ignore_errors=True)


def test_jobs_go_through_redis_to_a_real_worker(tmp_path, migrated_db, redis_url):
    """With HEARTH_REDIS_URL the queue is Redis: a job queued by the web is run by a real
    `flask worker` process."""
    from tests.conftest import Workers, build_app, release, write_worker_config

    app = build_app(tmp_path, migrated_db, REDIS_URL=redis_url, HUEY_IMMEDIATE=False)
    write_worker_config(
        Path(app.instance_path),
        {"REDIS_URL": redis_url, "SECRET_KEY": app.secret_key,
         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
    )  # fmt: skip
    from huey.storage import RedisStorage

    assert isinstance(app.extensions["hearth_huey"].storage, RedisStorage)
    with app.app_context():
        from app.models import ReminderRule

        customer = make_customer("久未聯絡")
        customer.created_at = customer.created_at.replace(year=customer.created_at.year - 1)
        db.session.add(ReminderRule(name="一年沒聯絡", kind="no_contact", days=30))
        db.session.commit()
        from app.models import Reminder
        from app.tasks import run_reminder_rules

        run_reminder_rules()  # queued in Redis, not run here
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reminder)) == 0
        pool = Workers(Path(app.instance_path))
        pool.start()
        try:
            deadline = time.monotonic() + 60
            found = 0
            while time.monotonic() < deadline and not found:
                db.session.rollback()
                found = db.session.scalar(sa.select(sa.func.count()).select_from(Reminder))
                time.sleep(0.2)
            assert found == 1
        finally:
            pool.stop_all()
    release(app)


def test_a_server_kept_in_a_deep_folder_starts_and_is_found_again():
    """A checkout a few folders deep: the socket path would pass Unix's 107 bytes, so the
    socket goes to a short private folder, the same one when the kept server is reopened."""
    from devtools.postgres import SOCKET_PATH_MAX, PostgresServer, socket_folder

    base = Path(tempfile.mkdtemp(prefix="hearth-deep-"))
    base.chmod(0o755)  # the server's own user (postgres, when the tests run as root) walks it
    deep = base / ("a-rather-long-folder-name-" * 3) / "instance" / "postgres"
    deep.parent.mkdir(parents=True)
    for folder in (deep.parent, deep.parent.parent):
        folder.chmod(0o755)
    assert len(str(deep / "socket" / ".s.PGSQL.5432")) > SOCKET_PATH_MAX
    server = PostgresServer(deep, durable=True)
    try:
        assert len(str(server.socket / ".s.PGSQL.5432")) <= SOCKET_PATH_MAX
        engine = sa.create_engine(server.url())
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        engine.dispose()
        again = PostgresServer(deep, durable=True)  # already running: found by its socket
        assert again.socket == server.socket == socket_folder(deep)
        assert again.running()
    finally:
        server.stop()
        shutil.rmtree(server.socket, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
