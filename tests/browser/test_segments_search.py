"""Real Chromium: the segment builder, bookmarkable filters, the header search."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from tests.conftest import browser_login
from tests.factories import make_alert, make_customer, make_tag, tag_customer


@pytest.fixture
def shop(live_app, demo_staff):
    with live_app.app_context():
        vip, rival = make_tag("VIP"), make_tag("競爭對手")
        for number in range(4):
            customer = make_customer(f"VIP 客人 {number}")
            tag_customer(customer, vip)
            if number == 0:
                tag_customer(customer, rival)
        child = make_customer("林花花")
        make_alert(child, keywords="花生", body="小明對花生過敏，點心不要花生")
        db.session.remove()


def _count(page) -> int:
    return int(re.search(r"\d+", page.locator("#result-count").inner_text()).group(0))


def test_build_vip_and_not_competitor_with_chips(page, live_server, shop):
    console = []
    page.on("console", lambda message: console.append(message.text))
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#result-count")).to_have_text("5 children")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.get_by_text("Build a filter by clicking").click()  # folded away until wanted
    page.get_by_label("Tag to include").fill("VIP")
    page.get_by_role("button", name="Include", exact=True).click()
    expect(page.locator("#result-count")).to_have_text("4 children")
    # One request for one click (not one for leaving the box and another for the button).
    assert len([url for url in requests if "/customers/?" in url]) == 1, requests
    page.get_by_label("Tag to exclude").fill("競爭對手")
    page.get_by_label("Tag to exclude").press("Enter")
    expect(page.locator("#result-count")).to_have_text("3 children")
    expect(page.get_by_label("Filter expression")).to_have_value("tag:VIP and not tag:競爭對手")
    expect(page).to_have_url(re.compile(r"/customers/\?q=tag:VIP"))
    # The address is a bookmark: reloading shows the same filter and chips.
    page.reload()
    expect(page.locator("#result-count")).to_have_text("3 children")
    expect(page.locator("#exclude-chips")).to_contain_text("競爭對手")
    # Peel a chip off; the back button goes to the earlier filter.
    page.get_by_text("Build a filter by clicking").click()
    page.get_by_role("button", name="Stop excluding 競爭對手").click()
    expect(page.locator("#result-count")).to_have_text("4 children")
    page.go_back()
    expect(page).to_have_url(re.compile(r"not"))
    expect(page.locator("#result-count")).to_have_text("3 children")
    assert not [text for text in console if "Content Security Policy" in text], console


def test_typed_expression_updates_live_and_explains_mistakes(page, live_server, shop):
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/")
    box = page.get_by_label("Filter expression")
    box.fill("(tag:VIP and not tag:競爭對手")
    expect(page.locator("#q-error")).to_contain_text(
        "At character 1: This parenthesis is never closed"
    )
    box.fill("tag:VIP and not tag:競爭對手")
    expect(page.locator("#result-count")).to_have_text("3 children")
    expect(page.locator("#q-error")).to_be_empty()
    expect(page.locator("#include-chips")).to_contain_text("VIP")


def test_header_search_finds_the_allergic_child(page, live_server, shop):
    browser_login(page, live_server, "teacher@example.com")
    page.get_by_label("Search children and notes").fill("花生")
    results = page.locator("#search-results")
    expect(results).to_contain_text("林花花")
    expect(results.locator("mark").first).to_have_text("花生")
    expect(results.locator(".alert-badge").first).to_contain_text("花生")
    page.get_by_label("Search children and notes").fill("林")
    expect(results.get_by_role("link", name="林花花")).to_be_visible()
    results.get_by_role("link", name="林花花").click()
    expect(page.get_by_role("alert")).to_contain_text("花生")


def test_save_segment_from_the_list(page, live_server, shop):
    browser_login(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/customers/?q=tag:VIP and not tag:競爭對手")
    page.get_by_label("Save this filter as").fill("VIP 非對手")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("Segment VIP 非對手 saved.")).to_be_visible()
    page.goto(f"{live_server.url}/segments/")
    row = page.locator("tr", has_text="VIP 非對手")
    expect(row).to_contain_text("3")


@pytest.mark.parametrize("width, height", [(1366, 768), (768, 1024)])
def test_header_search_is_readable_stays_on_screen_and_works_by_keyboard(
    page, live_server, shop, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    browser_login(page, live_server, "desk@example.com")
    box = page.get_by_label("Search children and notes")
    box.fill("客人")
    # Typed text is dark on the white box, not white on white.
    colour = box.evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(31, 35, 40)", colour
    dropdown = page.locator("#search-results")
    expect(dropdown.get_by_role("link", name=re.compile("VIP 客人 0"))).to_be_visible()
    edges = dropdown.evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; }"
    )
    assert edges[0] >= 0 and edges[1] <= width, edges  # not clipped at either edge
    box.press("ArrowDown")
    first = dropdown.get_by_role("link").first
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(dropdown.get_by_role("link").nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()
    page.keyboard.press("Escape")
    expect(dropdown).to_be_empty()
    expect(box).to_be_focused()
    # Enter on a result opens it.
    box.fill("林花花")
    expect(dropdown.get_by_role("link", name=re.compile("林花花"))).to_be_visible()
    box.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("林花花")


def test_list_shows_results_first_and_builds_visit_conditions(page, live_server, shop, live_app):
    """The builder folds away; it can say "no visit for 30 days"; an empty list offers no
    "Email these 0 people"; examples are in the reader's language."""
    from datetime import timedelta

    from app.clock import utcnow
    from app.models import Customer
    from tests.factories import make_entry

    with live_app.app_context():
        regular = db.session.scalar(
            sa.select(Customer).where(Customer.display_name == "VIP 客人 1")
        )
        make_entry(regular, kind="visit", body="來住兩晚", created_at=utcnow() - timedelta(days=3))
        db.session.remove()
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/")
    builder = page.locator("#builder-panel")
    expect(builder).not_to_have_attribute("open", "")
    results_top = page.locator("#customer-results").evaluate("e => e.getBoundingClientRect().top")
    assert results_top < 768, results_top  # the list is on the first screen
    page.get_by_text("Build a filter by clicking").click()
    page.get_by_label(re.compile("in the last \\(days\\)")).fill("7")
    page.get_by_role("button", name="Update list").click()
    expect(page.locator("#result-count")).to_have_text("1 child")
    expect(page.get_by_label("Filter expression")).to_have_value("visited < 7d")
    expect(builder).to_have_attribute("open", "")  # stays open while it is being used
    page.goto(f"{live_server.url}/customers/?q=tag:沒有這個標籤")
    expect(page.locator("#result-count")).to_have_text("0 children")
    expect(page.get_by_role("link", name=re.compile("Email these"))).to_have_count(0)
    hint = page.locator("#q-hint").inner_text()
    assert "競爭對手" not in hint  # English examples for an English reader
    page.goto(f"{live_server.url}/customers/", wait_until="load")


def test_two_conditions_typed_one_after_the_other_both_count(page, live_server, shop):
    """The answer to the first condition comes back while the second is being typed: it
    must not put back an older builder over what is being typed (it lost "and visited <
    730d"), and nothing goes wrong in the console."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/")
    page.get_by_text("Build a filter by clicking").click()
    # The first answer is held back (the real server's, delivered late) until the second box
    # is half typed: how a busy connection has it.
    held = []
    page.route(
        re.compile(r"/customers/\?.*build=1"),
        lambda route: held.append(route) if not held else route.continue_(),
    )
    first = page.get_by_label(re.compile("at least this many days ago"))
    first.press_sequentially("180")
    first.press("Tab")  # leaving the box sends the builder (change)
    second = page.get_by_label(re.compile("in the last \\(days\\)"))
    expect(second).to_be_focused()
    second.press_sequentially("7")
    page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()  # the first answer arrives while the second box is half typed
    expect(page.get_by_label("Filter expression")).to_have_value("visited > 180d")
    second.press_sequentially("30", delay=50)
    expect(second).to_have_value("730")
    second.press("Tab")
    expect(page.get_by_label("Filter expression")).to_have_value(
        "visited > 180d and visited < 730d"
    )
    assert not problems, problems
