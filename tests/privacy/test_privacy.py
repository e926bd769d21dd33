"""Privacy: erasure leaves no bytes of the person in the file, consent history, exports,
the audit log (one row per audited action), backups during writes and restore."""

import csv
import io
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditEvent, ConsentEvent, Customer, TimelineEntry
from app.services import privacy
from app.services.backup import BackupError, backup, restore
from app.services.customers import add_family_member
from app.services.search import search
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_entry, make_tag, tag_customer

NAME = "龔獨特名"
PHONE = "0987-654-321"
NOTE = "極機密的筆記：住在紫藤巷七號"


def audit_count(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def database_bytes(app) -> bytes:
    path = Path(db.engine.url.database)
    data = path.read_bytes()
    wal = Path(str(path) + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def test_erasure_leaves_nothing_of_the_person_and_keeps_the_counts(app, client, owner):
    person = make_customer(NAME, phone=PHONE, email="secret.person@example.com", nickname="獨特")
    add_family_member(db.session, person, {"name": "龔媽媽獨特", "email": "mum.secret@example.com"})
    db.session.commit()
    make_entry(person, body=NOTE)
    make_alert(person, keywords="花生", body="對花生過敏（獨特）")
    tag_customer(person, make_tag("VIP"))
    other = make_customer("王小明")
    make_entry(other, body="一般的筆記")
    customers_before = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    entries_before = db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry))
    assert search(db.session, "獨特名").customers and search(db.session, "紫藤巷").entries

    login(client, owner)
    person_id = person.id
    refused = client.post(f"/customers/{person_id}/erase", data={"confirm_name": "王小明"})
    assert refused.status_code == 422
    assert "The name does not match" in refused.get_data(as_text=True)
    assert (
        client.post(f"/customers/{person_id}/erase", data={"confirm_name": NAME}).status_code == 302
    )
    privacy.purge_traces(db.session)  # the worker's job after an erasure
    db.session.remove()

    if db.engine.dialect.name == "sqlite":  # the file itself (PostgreSQL: VACUUM, see purge)
        raw = database_bytes(app)
        for secret in (NAME, PHONE, "紫藤巷", "secret.person", "mum.secret", "龔媽媽", "獨特"):
            assert secret.encode() not in raw, secret
    for query in ("獨特名", "龔", "紫藤巷", "0987654321", "secret.person"):
        found = search(db.session, query)
        assert not found.customers and not found.entries, query
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == customers_before
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)) == entries_before
    )
    erased = db.session.get(Customer, person_id)
    assert erased.erased_at is not None and erased.level and erased.tags
    assert audit_count("customer.erase") == 1
    assert search(db.session, "一般的筆記").entries  # the others are untouched


def test_consent_history_and_its_audit(app, client, owner):
    customer = make_customer("陳小美", consent={"service"})
    login(client, owner)
    missing_method = client.post(
        f"/customers/{customer.id}/consent",
        data={"purpose": "marketing", "action": "given", "method": ""},
    )
    assert missing_method.status_code == 422
    assert "Say how the consent was given." in missing_method.get_data(as_text=True)
    before = audit_count("consent.change")
    client.post(
        f"/customers/{customer.id}/consent",
        data={"purpose": "marketing", "action": "given", "method": "paper"},
    )
    client.post(
        f"/customers/{customer.id}/consent",
        data={"purpose": "marketing", "action": "withdrawn", "method": ""},
    )
    assert audit_count("consent.change") == before + 2
    history = db.session.scalars(
        sa.select(ConsentEvent)
        .where(ConsentEvent.customer_id == customer.id)
        .order_by(ConsentEvent.id)
    ).all()
    assert [(e.purpose, e.action, e.method) for e in history] == [
        ("service", "given", None),
        ("marketing", "given", "paper"),
        ("marketing", "withdrawn", None),
    ]
    db.session.refresh(customer)
    assert customer.consents == {"service"}
    page = client.get(f"/customers/{customer.id}/privacy").get_data(as_text=True)
    assert "Paper form" in page and "Withdrawn" in page


def test_person_data_export_has_everything_and_is_audited(app, client, owner):
    customer = make_customer("林大同", phone="0911-222-333")
    add_family_member(db.session, customer, {"name": "林媽媽", "is_guardian": True})
    db.session.commit()
    make_entry(customer, body="喜歡恐龍")
    login(client, owner)
    data = client.get(f"/customers/{customer.id}/data.json").get_json()
    assert data["profile"]["name"] == "林大同" and data["profile"]["phone"] == "0911-222-333"
    assert data["family"][0]["name"] == "林媽媽"
    assert data["timeline"][0]["text"] == "喜歡恐龍"
    assert data["consent_history"][0]["action"] == "given"
    page = client.get(f"/customers/{customer.id}/data").get_data(as_text=True)
    assert "喜歡恐龍" in page and "林媽媽" in page
    assert audit_count("customer.data_export") == 2


def test_list_export_csv_and_xlsx_with_chosen_columns(app, client, owner):
    vip = make_tag("VIP")
    for name in ("王小明", "=HYPERLINK(evil)"):
        tag_customer(make_customer(name, phone="0911-000-111"), vip)
    make_customer("不是VIP")
    login(client, owner)
    response = client.get(
        "/customers/export?q=tag:VIP&columns=display_name&columns=phone&format=csv"
    )
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Phone"]
    assert sorted(r[0] for r in rows[1:]) == ["'=HYPERLINK(evil)", "王小明"]
    response = client.get(
        "/customers/export?q=tag:VIP&columns=display_name&columns=tags&format=xlsx"
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    assert values[0] == ("Name", "Tags") and ("王小明", "VIP") in values
    assert audit_count("customers.export") == 2
    none_chosen = client.get("/customers/export?q=tag:VIP&format=csv")
    assert none_chosen.status_code == 422 and "Choose at least one column." in none_chosen.get_data(
        as_text=True
    )
    bad = client.get("/customers/export?q=tag:(&format=csv&columns=phone")
    assert bad.status_code == 422


def test_audit_page_filters(app, client, owner):
    login(client, owner)
    make_customer("審計")
    client.get("/customers/export?columns=display_name&format=csv")
    page = client.get("/audit?action=customers.export").get_data(as_text=True)
    assert "customers.export" in page and "login.success" not in page
    assert "127.0.0.1" in page


@pytest.mark.sqlite_only
def test_backup_during_writes_and_restore(app, tmp_path):
    database = Path(db.engine.url.database)
    stop = threading.Event()
    written: list[int] = []

    def writer():
        connection = sqlite3.connect(database, timeout=10)
        number = 0
        while not stop.is_set():
            number += 1
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "INSERT INTO audit_event (at, action, detail) VALUES (CURRENT_TIMESTAMP, 'test.write', ?)",
                (str(number),),
            )
            connection.execute("COMMIT")
            written.append(number)
            time.sleep(0.001)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    while len(written) < 50:
        time.sleep(0.01)
    committed_before = written[-1]
    target = tmp_path / "backups" / "copy.sqlite"
    record = tmp_path / "last.json"
    facts = backup(database, target, record)
    stop.set()
    thread.join()
    assert facts["bytes"] > 0 and record.exists()
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    numbers = {
        int(row[0])
        for row in copy.execute("SELECT detail FROM audit_event WHERE action='test.write'")
    }
    copy.close()
    assert committed_before in numbers

    # Restore refuses while the database is in use, then round-trips into a stopped one.
    holder = sqlite3.connect(database)
    holder.execute("BEGIN IMMEDIATE")
    try:
        restore(target, database)
        raise AssertionError("restore should refuse")
    except BackupError as error:
        assert "in use" in str(error)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    fresh = tmp_path / "restored" / "hearth.sqlite"
    fresh.parent.mkdir()
    restore(target, fresh)
    check = sqlite3.connect(fresh)
    assert check.execute("SELECT count(*) FROM audit_event WHERE action='test.write'").fetchone()[
        0
    ] == len(numbers)
    check.close()
    not_sqlite = tmp_path / "junk.sqlite"
    not_sqlite.write_bytes(b"hello")
    try:
        restore(not_sqlite, fresh)
        raise AssertionError("junk should be refused")
    except BackupError as error:
        assert "not a SQLite database" in str(error)


def test_backup_command_and_settings_show_it(app, client, owner):
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0 and "integrity ok" in result.output
    login(client, owner)
    assert "Last backup:" in client.get("/settings/").get_data(as_text=True)


def test_audit_filters_with_bad_input_are_ignored_not_errors(app, client, owner):
    login(client, owner)
    for query in (
        "since=yesterday&until=2026-13-40",
        "user=abc&customer=x&page=-3",
        "action=%25_",
    ):
        response = client.get(f"/audit?{query}")
        assert response.status_code == 200, query
        assert "Audit log" in response.get_data(as_text=True)
    # A NUL is refused everywhere with a message (tests/security/test_fuzz.py).
    nul = client.get("/audit?action=%00%25")
    assert nul.status_code == 400
    assert "character that cannot be used" in nul.get_data(as_text=True)


def test_a_backup_of_a_database_that_is_not_a_file_makes_no_file(tmp_path, monkeypatch):
    """A PostgreSQL database's name (t_<hex>) taken as a SQLite path once left empty files
    in the working folder: the SQLite backup refuses a path that is not a database file."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BackupError, match="no SQLite database"):
        backup(Path("t_02f8cd1694c8"), tmp_path / "out" / "copy.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
