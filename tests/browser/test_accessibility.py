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
        "/settings/products", "/settings/rooms", "/settings/rates", "/settings/channels",
        "/enquiries/reasons",

        "/settings/synonyms", "/today?show=missing",
    ],
    "desk@example.com": ["/", "/customers/new", "/customers/{child}", "/labels",
                         "/customers/{child}/forms/purchase", "/customers/{child}/forms/enrolment",
                         "/imports/purchases", "/bookings/new?room_id={room}", "/stays/{stay}",
                         "/customers/duplicates", "/customers/merge?keep={child}&other={twin}",
                         "/enquiries", "/enquiries/new", "/enquiries/{enquiry}",
                         "/imports/{import_batch}"],
    "teacher@example.com": ["/", "/today", "/today/{child}"],
}  # fmt: skip


@pytest.fixture
def child(live_app, demo_shop):
    from app.models import Customer

    with live_app.app_context():
        child_id = db.session.scalar(sa.select(Customer.id).order_by(Customer.id).limit(1))
        db.session.remove()
    return child_id


@pytest.fixture
def booked(live_app, child):
    """A room and a booking (the stay's page, the booking page) for the first customer."""
    from datetime import timedelta

    from app.models import Customer
    from app.services import stays
    from app.services.shop import shop_context

    with live_app.app_context():
        room = stays.save_room(db.session, None, "海景雙人房")
        today = shop_context(db.session).today
        stay = stays.save_stay(
            db.session, db.session.get(Customer, child), None,
            {"room_id": room.id, "check_in": today, "check_out": today + timedelta(days=2),
             "status": "booked", "adults": 2, "children_ages": "6", "preferences": "要靠窗"},
            actor=None, today=today,
        )  # fmt: skip
        db.session.commit()
        found = {"room": room.id, "stay": stay.id}
        db.session.remove()
    return found


@pytest.fixture
def twin(live_app, child):
    """A second record of the first customer (the duplicate finder and merge pages)."""
    from app.models import Customer
    from tests.factories import make_customer

    with live_app.app_context():
        first = db.session.get(Customer, child)
        twin_id = make_customer(first.display_name, phone=first.phone, email=first.email).id
        db.session.remove()
    return twin_id


@pytest.fixture
def enquiry(live_app, child):
    """A hot enquiry with one contact (the board and the enquiry's page)."""
    from app.models import User
    from app.services import enquiries
    from app.services.shop import shop_context

    with live_app.app_context():
        desk = db.session.scalar(sa.select(User).where(User.email == "desk@example.com"))
        found = enquiries.create(
            db.session, {"name": "林小姐", "phone": "0912345678", "budget": 12000, "wants": "試聽"},
            kind="afterschool", today=shop_context(db.session).today, actor=desk,
        )  # fmt: skip
        enquiries.set_hot(db.session, found, True, actor=desk)
        enquiries.record_contact(db.session, found, channel="phone", note="下週再聯絡", actor=desk)
        db.session.commit()
        enquiry_id = found.id
        db.session.remove()
    return enquiry_id


@pytest.fixture
def uploaded(live_app, demo_shop):
    """A class list with a title row and the same child twice, uploaded (its mapping page)."""
    from flask import current_app

    from app.services import importer
    from app.services.importer import batches
    from app.tasks import imports_folder
    from tests.imports.test_real_sheet import real_sheet

    with live_app.app_context():
        data = real_sheet()
        batch = batches.new_batch(
            db.session, imports_folder(current_app), name="學生名單.xlsx", kind="xlsx",
            data=data, sheet=importer.read_sheet(data, "xlsx"), user_id=None,
        )  # fmt: skip
        db.session.commit()
        found = {"import_batch": batch.id}
        db.session.remove()
    return found


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
    browser, live_server, child, booked, twin, enquiry, uploaded, locale, viewport
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
                page.goto(
                    live_server.url
                    + path.format(child=child, twin=twin, enquiry=enquiry, **booked, **uploaded)
                )
                problems += [f"{email} {path}: {v}" for v in audit_page(page)]
            page.close()
            context.clear_cookies()
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


HOMESTAY_PAGES = {
    "owner@example.com": ["/calendar", "/calendar?days=31", "/calendar/rooms/{room}",
                          "/calendar?start=2026-02-30"],
    "desk@example.com": ["/", "/calendar", "/calendar/rooms/{room}"],
}  # fmt: skip


@pytest.fixture
def homestay_room(live_app):
    """The homestay demo (rooms, stays today), a closure and a booking site's calendar."""
    from datetime import timedelta

    from app.models import Room, RoomBlock, RoomFeed
    from app.services.rooms import ical
    from app.services.shop import shop_context
    from devtools.demo import seed_demo

    with live_app.app_context():
        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=12, kind="homestay")
        db.session.commit()
        room = db.session.scalar(sa.select(Room).order_by(Room.id).limit(1))
        today = shop_context(db.session).today
        db.session.add(RoomBlock(room_id=room.id, starts_on=today + timedelta(days=5),
                                 ends_on=today + timedelta(days=7), kind="closed", note="油漆"))  # fmt: skip
        feed = RoomFeed(room_id=room.id, name="Airbnb", url="http://127.0.0.1:9/a.ics",
                        last_status="timeout", last_error="")  # fmt: skip
        db.session.add(feed)
        db.session.flush()
        db.session.add(RoomBlock(room_id=room.id, starts_on=today + timedelta(days=9),
                                 ends_on=today + timedelta(days=11), kind="ota", feed_id=feed.id))  # fmt: skip
        ical.new_export_token(db.session, room)
        db.session.commit()
        room_id = room.id
        db.session.remove()
    return room_id


@pytest.mark.parametrize(
    "locale, viewport",
    [("en", (1366, 768)), ("zh-TW", (768, 1024))],
    ids=["english-desktop", "chinese-tablet"],
)
def test_homestay_calendar_pages_have_no_serious_accessibility_problems(
    browser, live_server, homestay_room, locale, viewport
):
    context = browser.new_context(
        bypass_csp=True,
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
        viewport={"width": viewport[0], "height": viewport[1]},
    )
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
                page.goto(live_server.url + path.format(room=homestay_room))
                page.wait_for_load_state()
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
