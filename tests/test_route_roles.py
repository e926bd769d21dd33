"""Every route × every role gets the expected status; every route declares its roles."""

import pytest

from tests.conftest import login
from tests.factories import make_user

ANON, TEACHER, DESK, OWNER = "anonymous", "teacher", "frontdesk", "owner"
STAFF_ONLY = {ANON: 302, TEACHER: 200, DESK: 200, OWNER: 200}
OWNER_ONLY = {ANON: 302, TEACHER: 403, DESK: 403, OWNER: 200}
DESK_UP = {ANON: 302, TEACHER: 403, DESK: 200, OWNER: 200}

# (method, url template, form data, expected status per role). Placeholders come from
# the `ids` fixture. A new route must be added here, or test_every_route_is_in_the_table
# fails.
ROUTES = [
    ("GET", "/", None, STAFF_ONLY),
    ("GET", "/staff/", None, OWNER_ONLY),
    ("GET", "/staff/new", None, OWNER_ONLY),
    ("POST", "/staff/new", {}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/staff/{other_user}", None, OWNER_ONLY),
    ("POST", "/staff/{other_user}", {}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/staff/{other_user}/password", {}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/settings/", None, OWNER_ONLY),
    ("POST", "/settings/", {"name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/login", None, {ANON: 200, TEACHER: 302, DESK: 302, OWNER: 302}),
    ("POST", "/logout", {}, {ANON: 302, TEACHER: 302, DESK: 302, OWNER: 302}),
    ("POST", "/language", {"lang": "zh_Hant"}, {ANON: 302, TEACHER: 302, DESK: 302, OWNER: 302}),
    ("GET", "/setup", None, {ANON: 404, TEACHER: 404, DESK: 404, OWNER: 404}),
]

PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.setup", "auth.language"}


@pytest.fixture
def ids(app):
    # An owner always exists (so /setup is gone); "other_user" is the account being managed.
    make_user("owner", email="first-owner@example.com")
    return {"other_user": make_user("teacher", email="managed@example.com").id}


@pytest.mark.parametrize("role", [ANON, TEACHER, DESK, OWNER])
@pytest.mark.parametrize(("method", "url", "data", "expected"), ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_route_status_per_role(app, ids, role, method, url, data, expected):
    client = app.test_client()
    if role != ANON:
        login(client, make_user(role))
    response = client.open(url.format(**ids), method=method, data=data)
    assert response.status_code == expected[role], response.get_data(as_text=True)[:300]


def test_every_route_declares_roles_and_is_in_the_table(app):
    tested = {(method, url.split("{")[0].rstrip("/")) for method, url, _data, _exp in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles") or rule.endpoint == "static", (
            f"{rule.endpoint} has no role decorator (roles_required/owner_required/public)"
        )
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        prefix = rule.rule.split("<")[0].rstrip("/")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, prefix) not in tested:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes missing from ROUTES: {missing}"


def test_teacher_gets_styled_403_not_just_hidden_menu(app, owner, teacher):
    client = app.test_client()
    login(client, teacher)
    response = client.get("/settings/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Not allowed" in page and "<html" in page


def test_htmx_403_is_swapped_into_messages(app, owner, teacher):
    client = app.test_client()
    login(client, teacher)
    response = client.get("/staff/", headers={"HX-Request": "true", "HX-Target": "main"})
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in response.get_data(as_text=True)


def test_htmx_request_when_signed_out_redirects_whole_page(client):
    make_user("owner")
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")
