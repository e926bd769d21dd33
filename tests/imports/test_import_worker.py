"""A real worker process killed with kill -9 in the middle of an import: nothing of it is
saved, the batch does not stay "running" (the staff page or the restarted worker sees the
worker died), and running it again imports every row exactly once."""

import io
import signal
import time
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import Customer, ImportBatch
from app.services import importer
from tests.conftest import login
from tests.factories import make_user

ROWS = 10_000


def _wait(condition, timeout: float = 120) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _status(batch_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(sa.select(ImportBatch.status).where(ImportBatch.id == batch_id))


def _customers() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Customer))


def _kill_mid_import(workers, folder: Path, batch_id: int, client=None) -> None:
    """Once some rows are in (in the import's own, uncommitted transaction), kill -9."""
    assert _wait(
        lambda: (
            _status(batch_id) == "running"
            and 0 < importer.read_progress(folder, batch_id)["done"] < ROWS
        )
    ), (
        importer.read_progress(folder, batch_id),
        _status(batch_id),
    )
    if client is not None:  # a live worker's import is left alone
        assert "Importing…" in client.get(f"/imports/{batch_id}").get_data(as_text=True)
        assert _status(batch_id) == "running"
    workers.processes[-1].send_signal(signal.SIGKILL)
    workers.processes[-1].wait(10)


def test_a_worker_killed_mid_import_leaves_a_batch_that_runs_again_exactly_once(
    outbox_app, workers
):
    make_user("owner")
    client = outbox_app.test_client()
    login(client, make_user("frontdesk", email="desk@example.com"))
    data = "姓名,電話\n" + "".join(f"顧客{n},09{n:08d}\n" for n in range(ROWS))
    response = client.post(
        "/imports/",
        data={"sheet": (io.BytesIO(data.encode()), "list.csv"), "encoding": ""},
        content_type="multipart/form-data",
    )
    batch_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    folder = Path(outbox_app.instance_path) / "imports"
    before = _customers()

    # Killed once: no worker comes back; the staff's page sees the worker is gone.
    assert client.post(f"/imports/{batch_id}/run").status_code == 302
    workers.start()
    _kill_mid_import(workers, folder, batch_id, client)
    assert _status(batch_id) == "running" and _customers() == before
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "the background worker was interrupted" in page and "Run again" in page
    assert _status(batch_id) == "failed"
    chinese = client.get(f"/imports/{batch_id}", headers={"Accept-Language": "zh-TW"})
    assert "背景程式被中止" in chinese.get_data(as_text=True)
    listed = client.get("/imports/").get_data(as_text=True)
    assert "Stopped: the worker was interrupted" in listed

    # Run again, killed again: the restarted worker finds it at start.
    assert client.post(f"/imports/{batch_id}/run").status_code == 302
    assert _status(batch_id) == "queued"
    workers.start()
    _kill_mid_import(workers, folder, batch_id)
    assert _customers() == before
    workers.start()
    assert _wait(lambda: _status(batch_id) == "failed", timeout=60), _status(batch_id)
    assert _customers() == before
    undo = client.post(f"/imports/{batch_id}/undo", follow_redirects=True)
    assert "Only a finished import can be undone." in undo.get_data(as_text=True)

    # Run once more with the worker alive: every row, once.
    assert client.post(f"/imports/{batch_id}/run").status_code == 302
    assert _wait(lambda: _status(batch_id) == "done", timeout=180), _status(batch_id)
    assert _customers() == before + ROWS
    names = db.session.scalars(
        sa.select(Customer.display_name).where(Customer.display_name.like("顧客%"))
    ).all()
    assert len(names) == len(set(names)) == ROWS
    progress = client.get(f"/imports/{batch_id}/progress")
    assert progress.status_code == 286 and f"{ROWS} new" in progress.get_data(as_text=True)
