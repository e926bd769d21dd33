"""Signing in and out: the limiter, no user enumeration, real server-side sessions."""

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, StaffSession
from tests.conftest import login
from tests.factories import PASSWORD, make_user


def test_login_and_home_page_per_role(client, owner, frontdesk, teacher):
    login(client, owner)
    page = client.get("/").get_data(as_text=True)
    assert "Summary" in page and "Staff" in page
    client.post("/logout")
    login(client, frontdesk)
    page = client.get("/").get_data(as_text=True)
    assert "My day" in page and "/staff/" not in page
    client.post("/logout")
    login(client, teacher)
    page = client.get("/").get_data(as_text=True)
    assert "<h1>Today" in page and "/staff/" not in page and "/campaigns/" not in page


def test_unknown_email_and_wrong_password_look_the_same(client, owner):
    wrong = client.post("/login", data={"email": owner.email, "password": "nope nope nope"})
    unknown = client.post(
        "/login", data={"email": "ghost@example.com", "password": "nope nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    text = "That email and password do not match an active account."
    assert text in wrong.get_data(as_text=True)
    assert text in unknown.get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(client, owner):
    user = make_user("frontdesk", active=False)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_limiter_blocks_after_ten_failures_per_account(client, owner):
    for _ in range(10):
        client.post("/login", data={"email": owner.email, "password": "wrong password"})
    response = client.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_limiter_blocks_per_address_across_accounts(client, owner):
    for number in range(10):
        client.post("/login", data={"email": f"guess{number}@example.com", "password": "x" * 12})
    response = client.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 429
    other_address = client.post(
        "/login",
        data={"email": owner.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert other_address.status_code == 302


def test_session_changes_at_login_and_logout_ends_it(app, owner):
    first = app.test_client()
    login(first, owner)
    second = app.test_client()
    login(second, owner)
    tokens = db.session.scalars(sa.select(StaffSession.token)).all()
    assert len(set(tokens)) == 2
    # Replay the cookie after logging out: the server-side session is gone.
    cookie = first.get_cookie("session").value
    first.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/").status_code == 302
    assert second.get("/").status_code == 200


def test_login_and_failure_are_audited(client, owner):
    client.post("/login", data={"email": owner.email, "password": "wrong password"})
    login(client, owner)
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["login.failed", "login"]


def test_next_parameter_only_goes_to_this_site(client, owner):
    response = client.post(
        "/login?next=https://evil.example/x", data={"email": owner.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/staff/", data={"email": owner.email, "password": PASSWORD})
    assert response.headers["Location"] == "/staff/"


def test_empty_login_form_shows_messages(client, owner):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter your email." in page and "Enter your password." in page


def test_setup_page_only_without_owner(client):
    assert client.get("/login").headers["Location"] == "/setup"
    bad = client.post(
        "/setup",
        data={"shop_name": "", "name": "A", "email": "bad", "password": "short", "confirm": "x"},
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Enter the shop&#39;s name." in text or "Enter the shop's name." in text
    assert "Enter a valid email address." in text
    assert "Use at least 10 characters." in text
    ok = client.post(
        "/setup",
        data={
            "shop_name": "小森林",
            "name": "Lin",
            "email": "Lin@Example.com",
            "password": "a long password",
            "confirm": "a long password",
        },
    )
    assert ok.status_code == 302
    assert client.get("/setup").status_code == 404
    response = client.post(
        "/login", data={"email": "lin@example.com", "password": "a long password"}
    )
    assert response.status_code == 302


def test_password_hash_is_scrypt_by_default(app):
    from app.services.accounts import create_user

    user = create_user(
        db.session, email="s@example.com", name="S", role="teacher", password="0123456789"
    )
    assert user.password_hash.startswith("scrypt:")
