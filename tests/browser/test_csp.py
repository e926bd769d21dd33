"""The Content Security Policy allows no inline style or script. htmx swaps, settles and our
own JS must never trip it: a day's worth of clicks, with every violation the browser reports
(console and `securitypolicyviolation` events) collected and required to be none."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.conftest import browser_login, wait_for_htmx
from tests.factories import make_alert, make_customer, make_entry, make_tag, tag_customer

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.__csp.push(event.violatedDirective + ' ' + (event.sample || '') + ' ' + event.blockedURI);
});
"""


@pytest.fixture
def shop(live_app, demo_shop):
    with live_app.app_context():
        child = make_customer("林小明", nickname="小明")
        for number in range(30):
            make_entry(child, body=f"第 {number + 1} 則紀錄")
        make_alert(child, keywords="花生", body="小明對花生過敏")
        tag_customer(child, make_tag("VIP", "amber"))
        ids = {"child": child.id}
        db.session.remove()
    return ids


def test_a_day_of_htmx_clicks_trips_no_content_security_policy(page, live_server, shop):
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH)
    violations = []

    def collect():
        violations.extend(page.evaluate("window.__csp || []"))

    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "desk@example.com")
    # Header search: the dropdown is placed by script, arrow keys and Esc.
    box = page.locator("#header-search")
    box.fill("林")
    expect(page.locator("#search-results a").first).to_be_visible()
    box.press("ArrowDown")
    page.keyboard.press("Escape")
    box.fill("小明")
    expect(page.locator("#search-results a").first).to_be_visible()
    collect()
    # The customer page: a note, pin and unpin, a tag, the feed filter, older entries.
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    page.get_by_label("New entry").fill("今天很乖")
    page.get_by_label("New entry").press("Enter")
    first = page.locator("#feed > li").first
    expect(first).to_contain_text("今天很乖")
    first.get_by_role("button", name="Pin").click()
    pinned = page.locator("#pinned > li", has_text="今天很乖")
    expect(pinned).to_have_count(1)
    pinned.get_by_role("button", name="Unpin").click()
    expect(pinned).to_have_count(0)
    wait_for_htmx(page, "#tag-name")
    page.get_by_label("Add a tag").fill("新生")
    page.locator("#tag-suggestions").get_by_role("button", name="Create “新生”").click()
    expect(page.get_by_role("list", name="Tags")).to_contain_text("新生")
    page.locator("#feed > li.entry").last.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    collect()
    # The list: the builder folds out, a chip is added, the count updates in place.
    # The header search is used there first, so the page htmx keeps for the back button
    # holds whatever our script did to the dropdown.
    page.goto(f"{live_server.url}/customers/")
    box.fill("林")
    expect(page.locator("#search-results a").first).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("#builder-panel summary").click()
    page.get_by_label("Tag to include").fill("VIP")
    page.get_by_role("button", name="Include", exact=True).click()
    expect(page.locator("#result-count")).to_have_text("2 children")
    page.go_back()  # htmx restores the earlier page from its history cache
    expect(page.locator("#result-count")).not_to_have_text("2 children")
    collect()
    # My day and Today.
    for path in ["/", "/today"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        collect()
    assert violations == [], violations
    assert not [text for text in console if "Content Security Policy" in text], console
