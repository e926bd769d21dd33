"""The customer page is rendered once and reused until something on it changes: whoever
changes it (this worker, another web worker, the background worker's plain SQL), whatever
it is (a note, a pin, a tag's name, a staff member's role or language), the next view shows it.
"""

import re
from datetime import timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import Role, TimelineEntry
from tests.conftest import build_app, login
from tests.factories import make_alert, make_customer, make_entry, make_tag, make_user, tag_customer


def _page(client, customer_id) -> str:
    response = client.get(f"/customers/{customer_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _without_token(page: str) -> str:
    """The page less its CSRF token, which is signed with the second it is served."""
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    return page.replace(token, "")


def _pages(app):
    return app.extensions["page_cache"]


def test_second_view_is_reused_and_a_new_note_shows_at_once(app, client):
    owner = make_user("owner")
    customer = make_customer("林小明")
    login(client, owner)
    first = _page(client, customer.id)
    assert len(_pages(app)) == 1
    # The same page, from the cache (only the token is the request's own).
    assert _without_token(_page(client, customer.id)) == _without_token(first)
    make_entry(customer, author=owner, body="今天主動收拾教室")
    assert "今天主動收拾教室" in _page(client, customer.id)


def test_changes_by_another_worker_and_by_plain_sql_show(app, client, tmp_path, migrated_db):
    owner = make_user("owner")
    customer = make_customer("林小明")
    login(client, owner)
    assert "寄出的期末通知" not in _page(client, customer.id)
    # The outbox writes with plain SQL, without the ORM: the triggers still count it.
    db.session.execute(
        sa.text(
            "INSERT INTO timeline_entry (customer_id, kind, body, created_at, action, pinned) "
            "VALUES (:id, 'email', '寄出的期末通知', :now, 'campaign', FALSE)"
        ),
        {"id": customer.id, "now": utcnow()},
    )
    db.session.commit()
    assert "寄出的期末通知" in _page(client, customer.id)
    # A second app on the same database file stands for the other web worker.
    # (The id is read here: inside the second app, this app's expired object would load it
    # through the second app's engine and keep that connection.)
    customer_id = customer.id
    second = _second_worker(tmp_path, migrated_db, app)
    with second.app_context():
        from app.extensions import db as second_db
        from app.models import Customer

        second_customer = second_db.session.get(Customer, customer_id)
        second_customer.nickname = "阿明"
        second_customer.version += 1
        second_db.session.commit()
        second_db.session.remove()
        second_db.engine.dispose()
    assert "阿明" in _page(client, customer.id)


def _second_worker(tmp_path, migrated_db, app):
    """Another app (its own page cache) on the same database file."""
    (tmp_path / "second").mkdir()
    return build_app(
        tmp_path / "second",
        migrated_db,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
    )


def test_pin_edit_and_tag_rename_show(app, client):
    owner = make_user("owner")
    customer = make_customer("林小明")
    entry = make_entry(customer, author=owner, body="第一次來")
    tag = make_tag("VIP")
    tag_customer(customer, tag)
    login(client, owner)
    page = _page(client, customer.id)
    assert 'id="pinned"' not in page and "VIP" in page
    client.post(f"/entries/{entry.id}/pin", data={"pinned": "1"})
    _page(client, customer.id)  # (the flash message is shown once, on a page of its own)
    assert 'id="pinned"' in _page(client, customer.id)
    client.post(f"/entries/{entry.id}/edit", data={"body": "第一次來（更正：第二次）"})
    _page(client, customer.id)
    assert "第一次來（更正：第二次）" in _page(client, customer.id)
    client.post(f"/tags/{tag.id}/rename", data={f"rename{tag.id}-name": "貴賓"})
    page = _page(client, customer.id)
    assert "貴賓" in page and ">VIP<" not in page


def test_messages_are_shown_once_and_never_kept(app, client):
    owner = make_user("owner")
    customer = make_customer("林小明")
    entry = make_entry(customer, author=owner)
    login(client, owner)
    _page(client, customer.id)
    client.post(f"/entries/{entry.id}/pin", data={"pinned": "1"})
    assert "Pinned to the top." in _page(client, customer.id)
    assert "Pinned to the top." not in _page(client, customer.id)


def test_each_staff_member_gets_their_own_page_and_a_role_change_shows(app):
    owner = make_user("owner")
    desk = make_user("frontdesk")
    teacher = make_user("teacher")
    customer = make_customer("林小明")
    make_alert(customer, author=owner)
    owner_client, desk_client, teacher_client = (app.test_client() for _ in range(3))
    login(owner_client, owner)
    login(desk_client, desk)
    login(teacher_client, teacher)
    assert "Add a reminder" in _page(desk_client, customer.id)
    assert "Add a reminder" not in _page(teacher_client, customer.id)
    assert "Consent history, data export, erasure" in _page(owner_client, customer.id)
    assert "Consent history, data export, erasure" not in _page(desk_client, customer.id)
    desk.role = Role.TEACHER
    db.session.commit()
    assert "Add a reminder" not in _page(desk_client, customer.id)


def test_a_teachers_view_of_alerts_is_audited_every_time(app, client):
    from app.models import AuditEvent

    make_user("owner")
    teacher = make_user("teacher")
    customer = make_customer("林小明")
    make_alert(customer)
    login(client, teacher)
    for _ in range(3):
        _page(client, customer.id)
    views = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "alert.view"))
    assert views == 3


def test_language_switch_and_relative_times_in_the_browser(app, client):
    owner = make_user("owner")
    customer = make_customer("林小明")
    make_entry(customer, author=owner, created_at=utcnow() - timedelta(hours=3))
    login(client, owner)
    english = _page(client, customer.id)
    assert "Add to timeline" in english
    client.post("/language", data={"lang": "zh_Hant", "next": f"/customers/{customer.id}"})
    chinese = _page(client, customer.id)
    assert 'lang="zh-Hant"' in chinese and "Add to timeline" not in chinese
    # Times are exact in the HTML (the browser words them "3 hours ago"), so a kept page
    # does not go stale as the clock moves.
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" data-relative>', chinese)


def test_every_served_page_carries_a_working_csrf_token(tmp_path, migrated_db):
    app = build_app(tmp_path, migrated_db, WTF_CSRF_ENABLED=True)
    with app.app_context():
        owner = make_user("owner")
        customer = make_customer("林小明")
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post(
            "/login",
            data={"email": owner.email, "password": "correct horse battery", "csrf_token": token},
        )
        for body in ("一", "二"):  # the second view is the kept page, with this request's token
            page = _page(client, customer.id)
            assert "hearth-csrf" not in page and "\x00" not in page
            token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
            response = client.post(
                f"/customers/{customer.id}/entries",
                data={"kind": "note", "body": body, "csrf_token": token},
            )
            assert response.status_code in (200, 302), response.status_code
        assert len(_pages(app)) >= 1
        bodies = db.session.scalars(
            sa.select(TimelineEntry.body).where(TimelineEntry.customer_id == customer.id)
        ).all()
        assert {"一", "二"} <= set(bodies)
        db.session.remove()
        db.engine.dispose()


def test_a_page_kept_yesterday_is_not_served_today(app, client):
    import dataclasses

    owner = make_user("owner")
    customer = make_customer("林小明")
    login(client, owner)
    _page(client, customer.id)
    pages = _pages(app)
    ((key, kept),) = list(pages._pages.items())
    pages.put(key, dataclasses.replace(kept, html=b"stale", day=kept.day - timedelta(days=1)))
    assert "林小明" in _page(client, customer.id)
