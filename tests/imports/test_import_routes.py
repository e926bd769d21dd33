"""Import views: upload checks, Big5 and BOM files, mapping validation, the job's
all-or-nothing failure, audit rows, undo."""

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditEvent, Customer, ImportBatch
from app.services import importer
from app.tasks import run_import_now
from tests.conftest import login


def upload(client, data: bytes, name: str, encoding: str = ""):
    return client.post(
        "/imports/",
        data={"sheet": (io.BytesIO(data), name), "encoding": encoding},
        content_type="multipart/form-data",
    )


def audit_count(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_templates_in_both_formats_have_bilingual_headers(client, owner, frontdesk):
    login(client, frontdesk)
    sheet = load_workbook(io.BytesIO(client.get("/imports/template.xlsx").data)).active
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert "姓名 Name" in header and "生日 Birthday" in header
    csv_text = client.get("/imports/template.csv").data.decode("utf-8-sig")
    assert csv_text.startswith("會員編號 Member number,姓名 Name")


def test_bad_uploads_get_clear_messages(client, owner, frontdesk):
    login(client, frontdesk)
    assert "Choose a file first." in client.post("/imports/", data={}).get_data(as_text=True)
    wrong = upload(client, b"hello", "notes.txt")
    assert wrong.status_code == 422 and "Choose a .xlsx or .csv file." in wrong.get_data(
        as_text=True
    )
    broken = upload(client, b"PK not really", "sheet.xlsx")
    assert broken.status_code == 422 and "not an Excel file we can read" in broken.get_data(
        as_text=True
    )
    empty = upload(client, b"\n\n", "empty.csv")
    assert "The file has no rows." in empty.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0


def test_big5_and_bom_files_import_with_their_chinese_intact(client, owner, frontdesk):
    login(client, frontdesk)
    for data, name in (
        ("姓名,電話\n許功蓋,0911-000-001\n".encode("cp950"), "big5.csv"),
        ("\ufeff姓名,電話\n林柏瑄,0911-000-002\n".encode(), "bom.csv"),
    ):
        response = upload(client, data, name)
        assert response.status_code == 302
        batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
        page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
        assert "1 new, 0 updated" in page
        client.post(f"/imports/{batch_id}/run")
        assert run_import_now(batch_id)["new"] == 1
    names = set(db.session.scalars(sa.select(Customer.display_name)))
    assert {"許功蓋", "林柏瑄"} <= names
    assert audit_count("import.upload") == 2 and audit_count("import.run") == 2


def test_the_mapping_is_checked(client, owner, frontdesk):
    login(client, frontdesk)
    response = upload(client, "姓名,暱稱\n王小明,小明\n".encode(), "list.csv")
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    twice = client.post(
        f"/imports/{batch_id}",
        data={
            "column-0": "display_name",
            "column-1": "display_name",
            "mode": "create_only",
            "encoding": "utf-8-sig",
        },
    )
    assert twice.status_code == 422 and "is chosen for two columns" in twice.get_data(as_text=True)
    bogus = client.post(
        f"/imports/{batch_id}",
        data={"column-0": "password_hash", "mode": "create_only", "encoding": "utf-8-sig"},
    )
    assert bogus.status_code == 422
    good = client.post(
        f"/imports/{batch_id}",
        data={
            "column-0": "display_name",
            "column-1": "",
            "mode": "create_only",
            "encoding": "utf-8-sig",
        },
    )
    assert good.status_code == 302
    batch = db.session.get(ImportBatch, batch_id)
    db.session.refresh(batch)
    assert batch.mapping == {"0": "display_name"} and batch.mode == "create_only"


def test_rows_with_errors_block_the_import_until_fixed_or_skipped(client, owner, frontdesk):
    login(client, frontdesk)
    response = upload(client, "姓名,生日\n好,2016-01-01\n壞,2016-13-01\n".encode(), "list.csv")
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    blocked = client.post(f"/imports/{batch_id}/run", follow_redirects=True)
    assert "rows still have errors" in blocked.get_data(as_text=True)
    client.post(
        f"/imports/{batch_id}",
        data={
            "column-0": "display_name",
            "column-1": "birthday",
            "mode": "create_and_update",
            "encoding": "utf-8-sig",
            "skip_errors": "1",
        },
    )
    client.post(f"/imports/{batch_id}/run")
    assert run_import_now(batch_id) == {
        "new": 1,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "errors": 1,
    }


def test_a_failing_job_saves_nothing_and_can_be_retried(client, owner, frontdesk, monkeypatch):
    login(client, frontdesk)
    response = upload(client, "姓名\n甲\n乙\n".encode(), "list.csv")
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    client.post(f"/imports/{batch_id}/run")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))

    def broken(*args, **kwargs):
        raise importer.ImportProblem("disk")

    monkeypatch.setattr(importer.running, "_insert_related_of_new", broken)
    assert run_import_now(batch_id) == {"failed": "disk"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == before
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "nothing was saved" in page
    monkeypatch.undo()
    client.post(f"/imports/{batch_id}/run")
    assert run_import_now(batch_id)["new"] == 2
    progress = client.get(f"/imports/{batch_id}/progress")
    assert progress.status_code == 286 and "2 new" in progress.get_data(as_text=True)
    client.post(f"/imports/{batch_id}/undo")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == before
    assert audit_count("import.undo") == 1


def test_preview_shows_old_and_new_for_every_update(client, owner, frontdesk):
    from tests.factories import make_customer

    make_customer("王小明", email="ming@example.com", phone="0911-222-333", level="C")
    login(client, frontdesk)
    rows = "".join(f"客人{n},c{n}@example.com,,\n" for n in range(30))  # past the first rows
    sheet = f"姓名,Email,等級,過敏\n{rows}王明明,ming@example.com,A,花生\n"
    response = upload(client, ("\ufeff" + sheet).encode(), "list.csv")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # The update far down the sheet is shown, with what it replaces.
    assert '王小明</span> → <strong class="new">王明明</strong>' in page
    assert 'C</span> → <strong class="new">A</strong>' in page
    assert "+ 花生" in page
    assert "Also match existing guests by phone number" in page
