"""Real Chromium: sign in as each demo role, menus, 中文, sign out, a teacher's 403."""

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_login


@pytest.mark.parametrize(
    ("email", "heading", "sees_staff_menu"),
    [
        ("owner@example.com", "Summary", True),
        ("desk@example.com", "My day", False),
        ("teacher@example.com", "Today: 向日葵班 Sunflowers", False),
    ],
)
def test_each_demo_role_signs_in_sees_home_and_signs_out(
    page, live_server, demo_shop, email, heading, sees_staff_menu
):
    browser_login(page, live_server, email)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    nav = page.get_by_role("navigation", name="Main")
    # A teacher's home is Today: the menu says so once.
    home = "Today" if email.startswith("teacher") else "Home"
    expect(nav.get_by_role("link", name=home, exact=True)).to_have_count(1)
    expect(nav.get_by_role("link", name="Staff")).to_have_count(1 if sees_staff_menu else 0)
    expect(nav.get_by_role("link", name="Settings")).to_have_count(1 if sees_staff_menu else 0)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login?next=/")


def test_switch_to_chinese_and_back(page, live_server, demo_shop):
    browser_login(page, live_server, "owner@example.com")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(page.get_by_role("heading", level=1)).to_have_text("總覽")
    expect(page.get_by_role("link", name="員工")).to_be_visible()
    expect(page.get_by_role("button", name="登出")).to_be_visible()
    expect(page).to_have_title("總覽 · 小森林安親班 Little Forest")
    # The choice sticks to the account: a new sign-in is still in Chinese.
    page.get_by_role("button", name="登出").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_teacher_typing_an_owner_url_sees_the_403_page(page, live_server, demo_shop):
    browser_login(page, live_server, "teacher@example.com")
    response = page.goto(f"{live_server.url}/staff/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("link", name="Back to the home page")).to_be_visible()


def test_owner_adds_a_staff_member_by_keyboard(page, live_server, demo_shop):
    browser_login(page, live_server, "owner@example.com")
    page.get_by_role("link", name="Staff").click()
    page.get_by_role("link", name="Add staff member").click()
    page.get_by_label("Name").fill("李老師")
    page.get_by_label("Email").fill("li@example.com")
    page.get_by_label("Role").select_option("teacher")
    page.get_by_label("First password").fill("short")
    page.get_by_label("First password").press("Enter")
    expect(page.locator("#password-error")).to_have_text("Use at least 10 characters.")
    # The error summary at the top has the focus and links to the field.
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text("First password: Use at least 10 characters.")
    page.get_by_label("First password").fill("a long password")
    page.get_by_role("button", name="Add staff member").click()
    expect(page.get_by_text("李老師 can now sign in.")).to_be_visible()
    expect(page.get_by_role("cell", name="li@example.com")).to_be_visible()


def test_no_console_errors_on_pages_at_tablet_size(page, live_server, demo_shop):
    """The CSP blocks inline scripts and styles: nothing on our pages may trip it."""
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "owner@example.com")
    for path in ["/", "/staff/", "/settings/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx") == "object"
    assert errors == []
    button = page.get_by_role("button", name="Sign out").bounding_box()
    assert button["height"] >= 44
