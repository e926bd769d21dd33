"""CSRF on every state-changing request, security headers, cookies, error pages."""

import re

import pytest

from tests.factories import PASSWORD, make_user


def _token(client, url="/login"):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_post_without_csrf_token_is_refused_with_a_message(csrf_app):
    client = csrf_app.test_client()
    user = make_user("owner")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired or did not come from this site" in response.get_data(as_text=True)


def test_form_token_and_htmx_header_token_both_work(csrf_app):
    client = csrf_app.test_client()
    user = make_user("owner")
    token = _token(client)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    no_token = client.post("/language", data={"lang": "en"}, headers={"HX-Request": "true"})
    assert no_token.status_code == 400
    assert no_token.headers["HX-Retarget"] == "#messages"
    ok = client.post("/language", data={"lang": "en"}, headers={"X-CSRFToken": header_token})
    assert ok.status_code == 302


def test_security_headers_and_no_store_when_signed_in(client):
    user = make_user("owner")
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(tmp_path, migrated_db):
    from tests.conftest import build_app

    app = build_app(tmp_path, migrated_db, SESSION_COOKIE_SECURE=True)
    with app.app_context():
        user = make_user("owner")
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_production_default_is_secure_cookie():
    from app.config import Config

    assert Config.SESSION_COOKIE_HTTPONLY is True
    assert Config.SESSION_COOKIE_SAMESITE == "Lax"


def test_404_page_is_styled(client):
    make_user("owner")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_500_page_is_styled_and_rolls_back(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    boom.allowed_roles = None
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_chinese_language_switch(client):
    make_user("owner")
    client.post("/language", data={"lang": "zh_Hant", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-Hant"' in page and "登入" in page and "電子郵件" in page


def test_accept_language_picks_chinese(client):
    make_user("owner")
    page = client.get("/login", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).get_data(
        as_text=True
    )
    assert "登入" in page


@pytest.mark.sqlite_only
def test_sqlite_is_wal_with_busy_timeout_and_foreign_keys(app):
    from app.extensions import db

    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_form_fields_never_carry_none_attributes(client):
    make_user("owner")
    page = client.get("/login").get_data(as_text=True)
    assert '="None"' not in page
    assert page.count("autofocus") == 1


def test_a_write_waiting_past_the_busy_timeout_gets_the_busy_page_and_saves_nothing(
    tmp_path, migrated_db
):
    """Another process holds the write lock (SQLite's, or the advisory lock on PostgreSQL)
    longer than the busy timeout: the request that wants to write is told to try again
    (503, Retry-After), not shown a server error."""
    import sqlite3

    import sqlalchemy as sa

    from app.db import WRITE_LOCK_KEY
    from app.extensions import db
    from app.models import TimelineEntry
    from tests.conftest import build_app, login, postgres_wanted, release
    from tests.factories import make_customer

    app = build_app(tmp_path, migrated_db, SQLITE_BUSY_TIMEOUT_MS=300)
    with app.app_context():
        make_user("owner")
        desk = make_user("frontdesk")
        customer_id = make_customer("林小明").id
        db.session.commit()
        client = app.test_client()
        login(client, desk)
        if postgres_wanted():
            engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.NullPool)
            other = engine.connect()
            other.exec_driver_sql(f"SELECT pg_advisory_lock({WRITE_LOCK_KEY})")
        else:
            other = sqlite3.connect(tmp_path / "instance" / "hearth.sqlite", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
        try:
            response = client.post(
                f"/customers/{customer_id}/entries", data={"kind": "note", "body": "已到"}
            )
        finally:
            if postgres_wanted():
                other.exec_driver_sql(f"SELECT pg_advisory_unlock({WRITE_LOCK_KEY})")
                other.close()
                engine.dispose()
            else:
                other.execute("ROLLBACK")
                other.close()
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(TimelineEntry.body == "已到")) == 0
        )
    release(app)
