"""The owner manages staff: add, change role, deactivate, reset password; all audited."""

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Role, StaffSession, User
from tests.conftest import login
from tests.factories import PASSWORD, make_user


def test_owner_adds_staff_who_can_then_sign_in(app, client, owner):
    login(client, owner)
    response = client.post(
        "/staff/new",
        data={
            "name": "新同事",
            "email": "New@Example.com",
            "role": "teacher",
            "password": "long enough pw",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new@example.com"))
    assert user.role == Role.TEACHER and user.password_hash.startswith("pbkdf2:")
    other = app.test_client()
    assert (
        other.post(
            "/login", data={"email": "new@example.com", "password": "long enough pw"}
        ).status_code
        == 302
    )


def test_add_staff_bad_input(client, owner):
    login(client, owner)
    response = client.post(
        "/staff/new",
        data={"name": "", "email": "not-an-email", "role": "teacher", "password": "short"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        "Enter a name." in page
        and "Enter a valid email address." in page
        and "Use at least 10" in page
    )
    duplicate = client.post(
        "/staff/new",
        data={"name": "X", "email": owner.email, "role": "teacher", "password": "long enough pw"},
    )
    assert duplicate.status_code == 422
    assert "Another account already uses this email." in duplicate.get_data(as_text=True)
    invalid_role = client.post(
        "/staff/new",
        data={"name": "X", "email": "x@example.com", "role": "admin", "password": "long enough pw"},
    )
    assert invalid_role.status_code == 422


def test_change_role_and_deactivate_signs_out(app, client, owner):
    desk = make_user("frontdesk")
    desk_client = app.test_client()
    login(desk_client, desk)
    login(client, owner)
    response = client.post(
        f"/staff/{desk.id}", data={"name": desk.name, "role": "teacher", "active": ""}
    )
    assert response.status_code == 302
    db.session.refresh(desk)
    assert desk.role == Role.TEACHER and not desk.active
    assert db.session.scalar(sa.select(sa.func.count()).where(StaffSession.user_id == desk.id)) == 0
    assert desk_client.get("/").status_code == 302
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.target_id == desk.id)
    ).all()
    assert "user.role" in actions and "user.update" in actions


def test_last_owner_cannot_be_demoted(client, owner):
    login(client, owner)
    client.post(f"/staff/{owner.id}", data={"name": owner.name, "role": "teacher", "active": "y"})
    db.session.refresh(owner)
    assert owner.role == Role.OWNER


def test_reset_password(app, client, owner):
    teacher = make_user("teacher")
    login(client, owner)
    bad = client.post(f"/staff/{teacher.id}/password", data={"pw-password": "short"})
    assert bad.status_code == 422
    ok = client.post(f"/staff/{teacher.id}/password", data={"pw-password": "brand new password"})
    assert ok.status_code == 302
    other = app.test_client()
    assert (
        other.post("/login", data={"email": teacher.email, "password": PASSWORD}).status_code == 401
    )
    assert (
        other.post(
            "/login", data={"email": teacher.email, "password": "brand new password"}
        ).status_code
        == 302
    )
