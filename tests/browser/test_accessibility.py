"""axe-core audits every role's main pages, in English and Chinese, desktop and tablet:
no serious or critical violation."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"

PAGES = {
    "owner@example.com": [
        "/", "/customers/", "/customers/{child}", "/customers/{child}/forms/alert",
        "/customers/?q=tag:VIP", "/feed", "/tags/", "/segments/", "/campaigns/",
        "/campaigns/new?q=has:email", "/reminders/", "/settings/", "/settings/groups",
        "/settings/reminders", "/imports/", "/audit", "/staff/", "/customers/export",
        "/customers/{child}/privacy", "/search?q=林", "/reports",
        "/reports?report=repurchase&min_price=100", "/reports?report=attendance",
        "/settings/products", "/settings/rooms", "/settings/channels",
    ],
    "desk@example.com": ["/", "/customers/new", "/customers/{child}", "/labels",
                         "/customers/{child}/forms/purchase", "/customers/{child}/forms/enrolment",
                         "/imports/purchases"],
    "teacher@example.com": ["/", "/today", "/today/{child}"],
}  # fmt: skip


@pytest.fixture
def child(live_app, demo_shop):
    from app.models import Customer

    with live_app.app_context():
        child_id = db.session.scalar(sa.select(Customer.id).order_by(Customer.id).limit(1))
        db.session.remove()
    return child_id


def audit_page(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.impact + ' ' + v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return result


@pytest.mark.parametrize(
    "locale, viewport",
    [("en", (1366, 768)), ("zh-TW", (768, 1024))],
    ids=["english-desktop", "chinese-tablet"],
)
def test_main_pages_have_no_serious_accessibility_problems(
    browser, live_server, child, locale, viewport
):
    context = browser.new_context(
        bypass_csp=True,  # only so the test can inject axe; the app's CSP stays as it is
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
        viewport={"width": viewport[0], "height": viewport[1]},
    )
    problems = []
    try:
        for email, paths in PAGES.items():
            page = context.new_page()
            page.goto(f"{live_server.url}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", "hearth-demo-1")
            page.press("input[name=password]", "Enter")
            page.wait_for_url(f"{live_server.url}/")
            for path in paths:
                page.goto(live_server.url + path.format(child=child))
                problems += [f"{email} {path}: {v}" for v in audit_page(page)]
            page.close()
            context.clear_cookies()
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


# A homestay's own pages: its Today, the lists behind the counts, the owner's figures.
HOMESTAY_PAGES = {
    "owner@example.com": ["/", "/today/stays?list=month", "/today/stays?list=prepare"],
    "desk@example.com": ["/", "/today", "/today/stays?list=in_house"],
    "teacher@example.com": ["/"],
}


@pytest.mark.parametrize(
    "locale, viewport",
    [("en", (1366, 768)), ("zh-TW", (768, 1024))],
    ids=["english-desktop", "chinese-tablet"],
)
def test_homestay_pages_have_no_serious_accessibility_problems(
    browser, live_app, live_server, locale, viewport
):
    from devtools.demo import seed_demo

    with live_app.app_context():
        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=24,
                  kind="homestay")  # fmt: skip
        db.session.commit()
        db.session.remove()
    context = browser.new_context(
        bypass_csp=True, locale=locale, extra_http_headers={"Accept-Language": locale},
        viewport={"width": viewport[0], "height": viewport[1]},
    )  # fmt: skip
    problems = []
    try:
        for email, paths in HOMESTAY_PAGES.items():
            page = context.new_page()
            page.goto(f"{live_server.url}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", "hearth-demo-1")
            page.press("input[name=password]", "Enter")
            page.wait_for_url(f"{live_server.url}/")
            for path in paths:
                page.goto(live_server.url + path)
                problems += [f"{email} {path}: {v}" for v in audit_page(page)]
            page.close()
            context.clear_cookies()
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
