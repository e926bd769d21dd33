"""A homestay's guest book through the import pages: the stay columns are offered and guessed,
the dry run says how many stays, a bad stay is explained in the desk's language and blocks
the import, the import makes them and undo takes them back. An after-school centre sees none
of it."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Customer, ImportantDate, ImportBatch, Room, Shop, Stay
from app.tasks import run_import_now
from tests.conftest import login
from tests.imports.test_import_routes import upload
from tests.services.test_importer import xlsx

GUEST_BOOK = [
    ["姓名", "手機", "入住日期", "退房日期", "房號", "房價"],
    ["陳怡君", "0912-345-678", "2025/12/24", "2025/12/26", "山景", "6400"],
    ["林柏瑄", "0922-000-111", "2025/12/24", "2025/12/25", "海景", "3800"],
    ["陳怡君", "0912345678", "2026/2/14", "2026/2/15", "海景", "3800"],
]


def add_rooms(*names: str) -> None:
    db.session.add_all([Room(name=name) for name in names])
    db.session.commit()


def batch_id_of(response) -> int:
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_guest_book_dry_run_import_and_undo(client, owner, frontdesk):
    add_rooms("山景", "海景")
    login(client, frontdesk)
    batch_id = batch_id_of(upload(client, xlsx(GUEST_BOOK), "guest-book.xlsx"))
    page = client.get(f"/imports/{batch_id}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "2 new, 0 updated" in text and "It will create 3 stays." in text
    assert "1 row is a further stay of a guest in an earlier row." in text
    assert 'value="stay_check_in" selected' in text and "Another stay (row 2)" in text
    client.post(f"/imports/{batch_id}/run")
    assert run_import_now(batch_id)["stays"] == 3
    assert count(Customer) == 2 and count(Stay) == 3 and count(ImportantDate) == 0
    done = client.get(f"/imports/{batch_id}", headers={"Accept-Language": "en"})
    assert "3 stays created." in done.get_data(as_text=True)
    undone = client.post(
        f"/imports/{batch_id}/undo", headers={"Accept-Language": "en"}, follow_redirects=True
    )
    assert "3 stays it added removed." in undone.get_data(as_text=True)
    assert count(Customer) == 0 and count(Stay) == 0


def test_a_bad_stay_is_explained_in_chinese_and_nothing_is_written(client, owner, frontdesk):
    add_rooms("山景")
    login(client, frontdesk)
    csv = "姓名,電話,入住,退房,房間\n好客人,0911000001,2025/3/1,2025/3/2,山景\n" \
          "壞客人,0911000002,2025/3/5,2025/3/4,山景\n新房客,0911000003,2025/3/6,2025/3/7,星空\n"  # fmt: skip
    batch_id = batch_id_of(upload(client, csv.encode(), "book.csv"))
    page = client.get(f"/imports/{batch_id}", headers={"Accept-Language": "zh-TW"})
    text = page.get_data(as_text=True)
    assert "退房日期要在入住日期之後" in text
    assert "沒有這個名稱的房間" in text and "山景" in text
    blocked = client.post(f"/imports/{batch_id}/run", follow_redirects=True)
    assert blocked.status_code == 200
    assert db.session.get(ImportBatch, batch_id).status == "uploaded"
    assert count(Customer) == 0 and count(Stay) == 0
    # Fixed in place: the row's check-out, and the room's name.
    client.post(f"/imports/{batch_id}/rows/3", data={"fix-stay_check_out": "2025/3/6"})
    client.post(f"/imports/{batch_id}/rows/4", data={"fix-stay_room": "山景"})
    client.post(f"/imports/{batch_id}/run")
    assert run_import_now(batch_id)["stays"] == 3


def test_an_after_school_centre_is_offered_no_stay_columns(client, owner, frontdesk):
    db.session.add(Shop(name="小太陽安親班", kind="afterschool"))
    db.session.commit()
    login(client, frontdesk)
    batch_id = batch_id_of(upload(client, "姓名,入住日期\n小明,2025/9/1\n".encode(), "kids.csv"))
    text = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "stay_check_in" not in text
    assert db.session.get(ImportBatch, batch_id).mapping == {"0": "display_name",
                                                             "1": "date:入住日期"}  # fmt: skip
    refused = client.post(
        f"/imports/{batch_id}",
        data={"column-0": "display_name", "column-1": "stay_check_in", "mode": "create_only",
              "encoding": "utf-8-sig"},
    )  # fmt: skip
    assert refused.status_code == 422
