"""Real Chromium: the composer, tags with autocomplete and undo, infinite scroll, alerts, escaping."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.clock import utcnow
from app.extensions import db
from tests.conftest import browser_login, wait_for_htmx
from tests.factories import make_alert, make_customer, make_entry, make_tag, make_user, tag_customer


@pytest.fixture
def shop(live_app, demo_shop):
    """A child with a long history and an allergy, in the demo shop's database."""
    import sqlalchemy as sa

    from app.models import User

    with live_app.app_context():
        teacher = db.session.scalar(sa.select(User).where(User.email == "teacher@example.com"))
        child = make_customer("林小明", nickname="小明")
        start = utcnow() - timedelta(days=90)
        for number in range(45):
            make_entry(
                child,
                author=teacher,
                body=f"第 {number + 1} 則紀錄",
                created_at=start + timedelta(hours=number),
            )
        make_alert(
            child,
            author=teacher,
            category="allergy",
            keywords="花生, peanut",
            body="小明對花生過敏",
        )
        make_tag("VIP", "amber")
        make_tag("紅酒同好會", "purple")
        ids = {"child": child.id}
        db.session.remove()
    return ids


def _no_navigation(page):
    """Marks the window; if the page reloads or navigates, the mark is gone."""
    page.evaluate("window.__stayed = true")
    return lambda: page.evaluate("window.__stayed === true")


def test_note_appears_at_the_top_without_reload(page, live_server, shop):
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    stayed = _no_navigation(page)
    box = page.get_by_label("New entry")
    box.fill("今天主動幫忙收拾教室 🧹")
    box.press("Enter")
    first = page.locator("#feed > li").first
    expect(first).to_contain_text("今天主動幫忙收拾教室")
    expect(first).to_contain_text("陳小姐 Chen")
    expect(box).to_have_value("")
    assert stayed()
    # An empty note gets a message, not an empty entry.
    page.get_by_role("button", name="Add to timeline").click()
    expect(page.locator("#composer-error")).to_contain_text("Write something first.")
    expect(page.locator("#feed > li.entry")).to_have_count(21)
    # Choosing another kind works too, and the error clears on success.
    page.get_by_label("Kind").select_option("call")
    box.fill("回電給媽媽")
    page.get_by_role("button", name="Add to timeline").click()
    expect(page.locator("#feed > li").first).to_contain_text("Call")
    expect(page.locator("#composer-error")).to_be_empty()
    assert stayed()


def test_add_tag_with_autocomplete_then_remove_and_undo(page, live_server, shop):
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    stayed = _no_navigation(page)
    page.get_by_label("Add a tag").fill("紅酒")
    page.locator("#tag-suggestions").get_by_role("button", name="紅酒同好會").click()
    chips = page.get_by_role("list", name="Tags")
    expect(chips).to_contain_text("紅酒同好會")
    # htmx wires up the swapped-in box when it settles; typing before that is not heard.
    wait_for_htmx(page, "#tag-name")
    # A new tag with a colour of its own.
    page.get_by_label("Add a tag").fill("三月親子日")
    page.get_by_label("Colour for a new tag").select_option("green")
    page.locator("#tag-suggestions").get_by_role("button", name="Create “三月親子日”").click()
    expect(chips.locator(".tag-green")).to_contain_text("三月親子日")
    # One click peels it off; the message offers undo.
    page.get_by_role("button", name="Remove tag 紅酒同好會").click()
    expect(chips).not_to_contain_text("紅酒同好會")
    expect(page.locator("#messages")).to_contain_text("Removed 紅酒同好會.")
    page.locator("#messages").get_by_role("button", name="Undo").click()
    expect(chips).to_contain_text("紅酒同好會")
    assert stayed()
    page.reload()
    expect(page.locator("#feed")).to_contain_text("Removed tag 紅酒同好會")


def test_scrolling_loads_older_entries(page, live_server, shop):
    browser_login(page, live_server, "teacher@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    entries = page.locator("#feed > li.entry")
    expect(entries).to_have_count(20)
    stayed = _no_navigation(page)
    for expected in (40, 45):
        page.locator("#feed > li").last.scroll_into_view_if_needed()
        page.mouse.wheel(0, 5000)
        expect(entries).to_have_count(expected)
    expect(page.locator("#feed")).to_contain_text("第 1 則紀錄")
    expect(page.locator("#feed")).to_contain_text("That is the beginning of the timeline.")
    assert stayed()


def test_teacher_sees_the_allergy_banner(page, live_server, shop):
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "teacher@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Allergy: 花生, peanut")
    expect(banner).to_contain_text("小明對花生過敏")
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("tr", has_text="林小明").locator(".alert-badge")).to_contain_text("花生")


def test_edit_entry_inline_and_see_earlier_version(page, live_server, shop):
    browser_login(page, live_server, "teacher@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    stayed = _no_navigation(page)
    entry = page.locator("#feed > li.entry").first
    entry.get_by_role("link", name="Edit").click()
    page.get_by_label("Text").fill("第 45 則紀錄（更正）")
    page.get_by_role("button", name="Save").click()
    entry = page.locator("#feed > li.entry").first
    expect(entry).to_contain_text("更正")
    entry.get_by_role("link", name="Earlier versions").click()
    expect(entry.locator(".revisions")).to_contain_text("第 45 則紀錄")
    assert stayed()


@pytest.mark.parametrize("evil", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_hostile_text_shows_as_text_and_never_runs(page, live_server, live_app, demo_shop, evil):
    with live_app.app_context():
        customer = make_customer(evil, nickname=evil, summary=evil)
        desk = make_user("frontdesk", email="evil-desk@example.com")
        make_entry(customer, author=desk, body=evil)
        make_alert(customer, keywords=evil, body=evil)
        tag_customer(customer, make_tag(evil[:60]))
        customer_id = customer.id
        db.session.remove()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser_login(page, live_server, "owner@example.com")
    for path in [
        f"/customers/{customer_id}",
        "/customers/",
        "/feed",
        "/tags/",
        f"/customers/{customer_id}/edit",
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/customers/{customer_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(evil)
    # Typed into the composer, too.
    page.get_by_label("New entry").fill(evil)
    page.get_by_label("New entry").press("Enter")
    expect(page.locator("#feed > li").first.locator(".entry-body")).to_have_text(evil)
    assert dialogs == []


def test_family_form_opens_in_place_and_adds(page, live_server, shop):
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    page.get_by_text("Add a family member").click()
    form = page.locator("#family form")
    form.get_by_label("Name").fill("林媽媽")
    form.get_by_role("textbox", name="Email").fill("mom@example.com")
    form.get_by_label("Guardian (receives the shop's email)").check()
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Family member added.")).to_be_visible()
    expect(page.locator("#family")).to_contain_text("林媽媽")
    expect(page.locator("#family")).to_contain_text("Receives email")


def test_feed_filters_and_list_sorting_update_in_place(page, live_server, shop):
    browser_login(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/feed")
    stayed = _no_navigation(page)
    page.get_by_label("Kind").select_option("alert")
    expect(page.locator("#feed-results")).to_contain_text("花生")
    expect(page.locator("#feed-results .kind-note")).to_have_count(0)
    assert stayed()
    page.goto(f"{live_server.url}/customers/")
    stayed = _no_navigation(page)
    page.get_by_role("link", name="Name", exact=True).click()
    name_header = page.get_by_role("columnheader", name="Name", exact=True)
    expect(name_header).to_have_attribute("aria-sort", "descending")
    expect(name_header).to_contain_text("▼")
    assert stayed()


def test_a_date_the_browser_cannot_read_is_not_dropped_silently(page, live_server, shop, live_app):
    """02/30/2026 typed into the birthday: the form stops with a summary at the top that
    has the focus; nothing is saved and the name typed stays."""
    from app.models import Customer

    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/new")
    page.get_by_role("group", name="Who").get_by_label("Name", exact=True).fill("二月三十")
    birthday = page.get_by_label("Birthday")
    birthday.click()
    page.keyboard.type("02302026")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Birthday: Enter a real date")
    expect(page.get_by_role("group", name="Who").get_by_label("Name", exact=True)).to_have_value(
        "二月三十"
    )
    assert page.url.endswith("/customers/new")
    with live_app.app_context():
        assert (
            db.session.scalar(sa.select(Customer).where(Customer.display_name == "二月三十"))
            is None
        )
        db.session.remove()


def test_alert_form_errors_keep_what_was_typed(page, live_server, shop, live_app):
    from app.models import Customer

    with live_app.app_context():
        child_id = db.session.scalar(
            sa.select(Customer.id).where(Customer.display_name == "林小明")
        )
        db.session.remove()
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/{child_id}/forms/alert")
    page.get_by_label("Keywords (comma separated, e.g. 花生, peanut)").fill("芒果, mango")
    page.get_by_role("button", name="Add alert").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Write something first.")
    expect(page.get_by_label("Keywords (comma separated, e.g. 花生, peanut)")).to_have_value(
        "芒果, mango"
    )
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("What everyone must know")).to_be_focused()


def test_new_child_with_guardian_and_allergy_in_one_form(page, live_server, shop):
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/new")
    expect(page.get_by_label("Occupation")).to_have_count(0)  # a child has no occupation
    level_words = page.get_by_label("Level").locator("option").all_inner_texts()
    assert not any("prospect" in word for word in level_words), level_words
    page.get_by_role("group", name="Who").get_by_label("Name", exact=True).fill("陳小華")
    page.get_by_label("Name of the guardian").fill("陳媽媽")
    page.get_by_label("Relation (e.g. mother)").fill("母親")
    page.get_by_role("group", name=re.compile("Guardian")).get_by_label("Phone").fill("0912345678")
    page.get_by_label("Keywords (comma separated, e.g. 花生, peanut)").fill("蝦, shrimp")
    page.get_by_label("What everyone must know").fill("對蝦子過敏，午餐要挑掉")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("陳小華")
    expect(page.locator(".alert-banner")).to_contain_text("對蝦子過敏")
    expect(page.locator("#family")).to_contain_text("陳媽媽")
    # "Add an alert" is the first thing in the side column, not a card far below.
    first_card = page.locator(".details-column > section").first
    expect(first_card).to_contain_text("Add an alert")


def test_words_and_looks_read_right_in_chinese(page, live_server, shop):
    """Column headers on one line, tag changes quieter than notes, suggestions that do not
    look like tags already on the child."""
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "desk@example.com")
    page.set_extra_http_headers({"Accept-Language": "zh-TW"})
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    lines = page.locator("th[scope=col]:not(:has(input))").evaluate_all(
        """hs => hs.map(h => {
            const range = document.createRange();
            range.selectNodeContents(h);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        })"""
    )
    assert max(lines) == 1, lines  # every column header on one line
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    page.locator("#tag-name").fill("紅酒")
    suggestion = page.locator("#tag-suggestions .chip.suggestion").first
    expect(suggestion).to_be_visible()
    # Retried: the suggestions box may be swapped again while the request for the last
    # keystroke answers (a detached chip has no computed style).
    expect(suggestion).to_have_css("border-top-style", "dashed")
    with page.expect_response(
        lambda response: "/tags" in response.url and response.request.method == "POST"
    ):
        suggestion.click()
    note = page.locator("#feed .entry.kind-note").first
    tag_change = page.locator("#feed .entry.kind-tag").first
    page.reload()
    expect(tag_change).to_be_visible()
    size = lambda entry: entry.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")  # noqa: E731
    assert size(tag_change) < size(note)


def test_times_read_relative_in_the_readers_language(page, live_server, shop):
    """The page holds exact times (so a kept page never goes stale); the browser words them."""
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    page.get_by_label("New entry").fill("剛剛的紀錄")
    page.get_by_label("New entry").press("Enter")
    newest = page.locator("#feed > li").first.locator("time")
    expect(newest).to_have_text("now")
    expect(page.locator("#feed > li").nth(1).locator("time")).to_have_text(
        re.compile("months? ago")
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", newest.get_attribute("title"))
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#feed > li").first.locator("time")).to_have_text("現在")
    expect(page.locator("#feed > li").nth(1).locator("time")).to_have_text(re.compile("個月前"))


def test_a_past_purchase_typed_by_keyword_in_the_panel(page, live_server, live_app, shop):
    from app.services import purchases

    with live_app.app_context():
        for name, price in (("普洱茶", 1200), ("普洱茶禮盒", 3600)):
            purchases.save_product(db.session, None, name=name, price=price, points=0)
        db.session.commit()
        db.session.remove()
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    card = page.locator("#purchases")
    card.get_by_text("Add a purchase").click()  # the form loads when opened
    product = card.get_by_label("Product (type any part of its name)")
    product.fill("普洱")  # two products have it: asked to type more
    card.get_by_label("Date").fill("2024-03-05")
    card.get_by_role("button", name="Add purchase").click()
    expect(page.locator(".error-summary")).to_contain_text("Several products match")
    expect(page.get_by_label("Product (type any part of its name)")).to_have_value("普洱")
    page.get_by_label("Product (type any part of its name)").fill("禮盒")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add purchase").click()
    expect(page.locator("#purchases")).to_contain_text("普洱茶禮盒 × 2")
    expect(page.locator("#purchases")).to_contain_text("NT$7,200")
    # Filed under its own day (2024), not on top of this year's notes.
    expect(page.locator("#feed > li").first).not_to_contain_text("普洱茶禮盒")


def test_a_call_from_yesterday_is_written_down_as_yesterdays(page, live_server, shop):
    """zh-TW on a tablet: "I called her yesterday" goes into the feed under yesterday's date,
    below what happened since, and says it was written later; a day still to come is
    refused in Chinese."""
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "desk@example.com")
    page.set_extra_http_headers({"Accept-Language": "zh-TW"})
    page.goto(f"{live_server.url}/customers/{shop['child']}")
    box = page.get_by_label("新紀錄")
    box.fill("今天的事")
    box.press("Enter")
    expect(page.locator("#feed > li").first).to_contain_text("今天的事")
    taipei_today = (utcnow() + timedelta(hours=8)).date()
    page.get_by_text("補記較早發生的事").click()
    page.get_by_label("發生日期").fill((taipei_today + timedelta(days=2)).isoformat())
    box.fill("還沒發生的事")
    page.get_by_role("button", name="加入動態").click()
    expect(page.locator("#composer-error")).to_contain_text("那還沒發生")
    page.get_by_label("發生日期").fill((taipei_today - timedelta(days=1)).isoformat())
    page.get_by_label("時間", exact=True).fill("15:30")
    page.get_by_label("類型").select_option("call")
    box.fill("昨天下午打電話給媽媽")
    page.get_by_role("button", name="加入動態").click()
    entry = page.locator("#feed > li", has_text="昨天下午打電話給媽媽")
    expect(entry).to_contain_text("補記")
    expect(entry.locator("time")).to_have_attribute("datetime", re.compile(r"T07:30"))
    page.reload()  # in its place: below today's note
    texts = page.locator("#feed > li .entry-body").all_inner_texts()
    assert texts.index("今天的事") < texts.index("昨天下午打電話給媽媽"), texts
