"""The duplicate finder's and merge pages: who may use them, what they show (zh-TW), the
words for each refusal (422/409, nothing written), CSRF, and undo from the survivor's page."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Customer, CustomerMerge, NotDuplicate, TimelineEntry
from app.services import privacy
from tests.conftest import build_app, login
from tests.factories import PASSWORD, make_customer, make_entry, make_user


@pytest.fixture
def desk_client(app, owner, frontdesk):
    frontdesk.locale = "zh_Hant"
    db.session.commit()
    client = app.test_client()
    login(client, frontdesk)
    return client


@pytest.fixture
def pair(app):
    survivor = make_customer("陳怡君", phone="0912-345-679", email="old@example.com")
    other = make_customer("陈怡君", phone="+886 912 345 679", email="new@example.com")
    make_entry(survivor, body="第一份的筆記")
    make_entry(other, body="第二份的筆記")
    return survivor, other


def _form(survivor, other, **choices) -> dict:
    data = {"keep": survivor.id, "other": other.id, "keep_version": survivor.version,
            "other_version": other.version}  # fmt: skip
    data.update({f"choose-{name}": side for name, side in choices.items()})
    return data


def test_teacher_cannot_see_or_merge_duplicates(app, owner, teacher, pair):
    client = app.test_client()
    login(client, teacher)
    survivor, other = pair
    assert client.get("/customers/duplicates").status_code == 403
    assert client.get(f"/customers/merge?keep={survivor.id}&other={other.id}").status_code == 403
    assert client.post("/customers/merge", data=_form(survivor, other)).status_code == 403
    assert db.session.get(Customer, other.id).merged_into_id is None


def test_finder_page_shows_the_pair_and_why_in_chinese(desk_client, pair):
    survivor, other = pair
    page = desk_client.get("/customers/duplicates").get_data(as_text=True)
    assert "可能重複的資料" in page
    assert "電話相同 0912345679" in page and "姓名相近 陳怡君/陈怡君" in page
    assert f"/customers/merge?keep={survivor.id}&amp;other={other.id}" in page


def test_not_the_same_person_hides_the_pair(desk_client, pair):
    survivor, other = pair
    response = desk_client.post(
        "/customers/duplicates/not-same", data={"first": other.id, "second": survivor.id}
    )
    assert response.status_code == 302
    page = desk_client.get("/customers/duplicates").get_data(as_text=True)
    assert "沒有找到可能重複的資料" in page and "已記下" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotDuplicate)) == 1
    same = desk_client.post(
        "/customers/duplicates/not-same", data={"first": other.id, "second": other.id}
    )
    assert same.status_code == 422 and "這是同一筆資料" in same.get_data(as_text=True)


def test_merge_page_shows_both_sides_and_what_moves(desk_client, pair):
    survivor, other = pair
    page = desk_client.get(f"/customers/merge?keep={survivor.id}&other={other.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "old@example.com" in html and "new@example.com" in html
    assert "保留：陳怡君" in html and "併入：陈怡君" in html
    assert "時間軸: 1" in html
    assert re.search(r'name="choose-email" value="keep" checked', html)


def test_merge_choosing_the_others_email_then_undo(desk_client, pair):
    survivor, other = pair
    response = desk_client.post("/customers/merge", data=_form(survivor, other, email="other"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/customers/{survivor.id}")
    page = desk_client.get(f"/customers/{survivor.id}").get_data(as_text=True)
    assert "new@example.com" in page and "第一份的筆記" in page and "第二份的筆記" in page
    assert "陈怡君 已在" in page and "復原合併" in page
    merged = desk_client.get(f"/customers/{other.id}").get_data(as_text=True)
    assert "這筆資料已經合併到另一筆" in merged
    assert "陈怡君" not in desk_client.get("/customers/").get_data(as_text=True)

    record = db.session.scalar(sa.select(CustomerMerge))
    undone = desk_client.post(f"/customers/merges/{record.id}/undo")
    assert undone.status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, survivor.id).email == "old@example.com"
    assert (
        db.session.scalar(
            sa.select(TimelineEntry.customer_id).where(TimelineEntry.body == "第二份的筆記")
        )
        == other.id
    )
    again = desk_client.post(f"/customers/merges/{record.id}/undo")
    assert again.status_code == 409 and "這次合併已經復原過了" in again.get_data(as_text=True)


def test_merge_refused_with_words_and_nothing_written(desk_client, pair):
    survivor, other = pair
    erased = make_customer("林小美")
    privacy.erase(db.session, erased, typed_name="林小美")
    db.session.commit()
    cases = [
        (f"/customers/merge?keep={survivor.id}&other={survivor.id}", 422, "這是同一筆資料"),
        (f"/customers/merge?keep={survivor.id}&other={erased.id}", 409, "個人資料已刪除"),
    ]
    for url, status, words in cases:
        response = desk_client.get(url)
        assert response.status_code == status and words in response.get_data(as_text=True)
    assert desk_client.get(f"/customers/merge?keep={survivor.id}&other=x").status_code == 400
    assert desk_client.get(f"/customers/merge?keep={survivor.id}&other=99999").status_code == 404
    stale = _form(survivor, other)
    stale["other_version"] = other.version - 1 if other.version > 1 else other.version + 5
    response = desk_client.post("/customers/merge", data=stale)
    assert response.status_code == 409 and "有人修改了其中一筆資料" in response.get_data(
        as_text=True
    )
    bad = desk_client.post("/customers/merge", data=_form(survivor, other, email="both"))
    assert bad.status_code == 422 and "每一欄請從左右兩邊選一個" in bad.get_data(as_text=True)
    incomplete = {"keep": survivor.id, "other": other.id}
    assert desk_client.post("/customers/merge", data=incomplete).status_code == 422
    erased_post = desk_client.post("/customers/merge", data={**_form(survivor, other),
                                                              "other": erased.id})  # fmt: skip
    assert erased_post.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerMerge)) == 0


def test_merge_needs_the_forms_csrf_token(tmp_path, migrated_db):
    app = build_app(tmp_path, migrated_db, WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user("owner")
        survivor, other = make_customer("陳怡君"), make_customer("陈怡君")
        client = app.test_client()
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(True)
        ).group(1)
        client.post("/login", data={"email": user.email, "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
        assert client.post("/customers/merge", data=_form(survivor, other)).status_code == 400
        page = client.get(f"/customers/merge?keep={survivor.id}&other={other.id}")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(True))
        response = client.post(
            "/customers/merge", data={**_form(survivor, other), "csrf_token": token.group(1)}
        )
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(Customer, other.id).merged_into_id == survivor.id
