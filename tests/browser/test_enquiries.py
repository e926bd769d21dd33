"""Enquiries in a real Chromium, in zh-TW on a tablet: the desk writes down a phone enquiry
in the centre's terms, marks it hot with one tap (htmx, no reload), notes a call, and is
warned on a second call too soon after the first."""

from playwright.sync_api import expect


def test_the_desk_records_an_enquiry_marks_it_hot_and_notes_calls(browser, live_server, demo_staff):
    context = browser.new_context(
        locale="zh-TW", extra_http_headers={"Accept-Language": "zh-TW"},
        viewport={"width": 768, "height": 1024}, has_touch=True,
    )  # fmt: skip
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=email]", "desk@example.com")
    page.fill("input[name=password]", "hearth-demo-1")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="詢問").first.click()
    page.get_by_role("link", name="新增詢問").click()
    page.get_by_label("姓名", exact=True).fill("林小姐")
    page.get_by_label("電話", exact=True).fill("0912-345-678")
    page.get_by_label("詢問管道").select_option("line")
    page.get_by_label("孩子的年級").fill("小二")
    page.get_by_label("預算 NT$").fill("12000")
    page.get_by_label("把握（%）").fill("70")
    page.get_by_role("button", name="儲存詢問").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("林小姐")
    url = page.url
    page.get_by_role("button", name="標為熱點").first.tap()
    expect(page.get_by_role("button", name="取消熱點").first).to_be_visible()
    assert page.url == url
    page.get_by_label("談了什麼").fill("介紹課程，下週試聽")
    page.get_by_role("button", name="記下來").click()
    expect(page.locator(".flash, [role=status], .messages").first).to_contain_text("已記下")
    page.get_by_label("談了什麼").fill("再確認一次時間")
    page.get_by_role("button", name="記下來").click()
    expect(page.get_by_text("跟得太緊").first).to_be_visible()
    page.goto(f"{live_server.url}/enquiries")
    card = page.locator(".enquiry-card", has_text="林小姐")
    expect(card).to_contain_text("熱點")
    expect(page.locator("#stage-contacted")).to_contain_text("已聯絡")
    context.close()
