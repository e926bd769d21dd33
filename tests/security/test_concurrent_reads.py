"""GET pages that write an audit row (a teacher opening a child with an alert, the owner's
data page, JSON and export) keep answering while 20 other writers hammer the database."""

import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.factories import make_alert, make_customer, make_user
from tests.security.conftest import http_login


def test_audited_get_pages_never_fail_while_others_write(live_app, web_server):
    with live_app.app_context():
        make_user("owner", email="boss@example.com")
        make_user("teacher", email="teach@example.com")
        make_user("frontdesk", email="desk@example.com")
        child = make_customer("花生寶寶")
        make_alert(child)
        child_id = child.id
        db.session.commit()
        db.session.remove()

    stop = threading.Event()
    writes: list[int] = []

    def writer(opener):
        # A front-desk member adding notes as fast as the server takes them.
        while not stop.is_set():
            form = urllib.parse.urlencode({"kind": "note", "body": "busy day"}).encode()
            request = urllib.request.Request(
                f"{server.url}/customers/{child_id}/entries",
                data=form,
                headers={"X-CSRFToken": opener.csrf_token},
            )
            try:
                with opener.open(request, timeout=30) as response:
                    response.read()
                    writes.append(response.status)
            except urllib.error.HTTPError as error:
                # 503 "very busy, try again" is the designed answer to a write that waited
                # past the busy timeout (20 writers with no pause, on a loaded machine).
                writes.append(error.code)

    server = web_server()
    teacher = http_login(server.url, "teach@example.com")
    owner = http_login(server.url, "boss@example.com")
    pages = [
        (teacher, f"/customers/{child_id}"),
        (teacher, f"/today/{child_id}"),
        (owner, f"/customers/{child_id}/data"),
        (owner, f"/customers/{child_id}/data.json"),
        (owner, "/customers/export?format=csv&columns=display_name"),
    ]
    make = [http_login(server.url, "desk@example.com") for _ in range(20)]
    writers = [threading.Thread(target=writer, args=(o,), daemon=True) for o in make]
    for thread in writers:
        thread.start()
    failures: list[str] = []

    def fetch(opener, path):
        try:
            with opener.open(server.url + path, timeout=30) as response:
                response.read()
                if response.status != 200:
                    failures.append(f"{path}: {response.status}")
        except Exception as error:  # noqa: BLE001 - every failure is counted
            failures.append(f"{path}: {error}")

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            for _ in range(100):
                for opener, path in pages:
                    pool.submit(fetch, opener, path)
    finally:
        stop.set()
        for thread in writers:
            thread.join(30)
    assert failures == [], failures[:5]
    assert len(writes) > 100 and set(writes) <= {200, 201, 503}
    assert sum(status in (200, 201) for status in writes) > 0.9 * len(writes)
    with live_app.app_context():
        # Rows of pages that found the database busy were queued; the worker moves them in.
        from app.tasks import drain_audit_queue_now

        drain_audit_queue_now()
        counts = dict(
            db.session.execute(
                sa.select(AuditEvent.action, sa.func.count()).group_by(AuditEvent.action)
            ).all()
        )
    assert counts["alert.view"] == 200
    assert counts["customer.data_export"] == 200
    assert counts["customers.export"] == 100


def test_audited_pages_answer_while_a_writer_holds_the_lock_and_their_rows_arrive(
    outbox_app, workers
):
    """Someone holds the write lock for 20 s (a long import, a backup, a stuck job): a
    teacher opening children with alerts keeps getting pages, and every audit row of those
    pages reaches the log through the queue and the real worker once the lock is free."""
    import sqlite3
    import time
    from pathlib import Path

    from app.db import WRITE_LOCK_KEY
    from app.services import audit_queue
    from tests.conftest import login, postgres_wanted

    make_user("owner", email="boss@example.com")
    teacher = make_user("teacher", email="teach@example.com")
    child = make_customer("花生寶寶")
    make_alert(child)
    db.session.commit()
    child_id = child.id
    client = outbox_app.test_client()
    login(client, teacher)
    db.session.remove()
    workers.start()
    if postgres_wanted():
        engine = sa.create_engine(
            outbox_app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool
        )
        holder = engine.connect()
        holder.exec_driver_sql(f"SELECT pg_advisory_lock({WRITE_LOCK_KEY})")
    else:
        holder = sqlite3.connect(Path(outbox_app.instance_path) / "hearth.sqlite")
        holder.isolation_level = None
        holder.execute("BEGIN IMMEDIATE")
    statuses = []
    try:
        held_until = time.monotonic() + 20
        while time.monotonic() < held_until:
            for path in (f"/customers/{child_id}", f"/today/{child_id}"):
                statuses.append(client.get(path).status_code)
        queued = audit_queue.waiting(outbox_app.instance_path)
    finally:
        if postgres_wanted():
            holder.exec_driver_sql(f"SELECT pg_advisory_unlock({WRITE_LOCK_KEY})")
            holder.close()
            engine.dispose()
        else:
            holder.execute("ROLLBACK")
            holder.close()
    assert len(statuses) >= 20 and set(statuses) == {200}, statuses[:5]
    assert queued == len(statuses)  # not one was written while the lock was held
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        db.session.rollback()
        views = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "alert.view")
        )
        if views >= len(statuses) and not audit_queue.waiting(outbox_app.instance_path):
            break
        time.sleep(0.5)
    assert views == len(statuses)
    assert audit_queue.waiting(outbox_app.instance_path) == 0
