"""A teacher checks ten children in and out on a tablet, one tap each, by finger."""

from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from tests.conftest import browser_login
from tests.factories import give_groups


@pytest.fixture
def browser_context_args(browser_context_args):
    """A tablet: touch, not a mouse."""
    return {**browser_context_args, "has_touch": True, "viewport": {"width": 768, "height": 1024}}


def test_a_teacher_checks_ten_children_in_and_out_on_a_tablet(
    page, live_server, live_app, demo_shop
):
    from app.models import Attendance, AuditEvent, Tag, User
    from app.services import attendance
    from app.services.customers import add_family_member
    from tests.factories import make_customer, tag_customer

    with live_app.app_context():
        group = Tag(name="向日葵班", colour="green", is_group=True)
        db.session.add(group)
        db.session.commit()
        for number in range(10):
            child = make_customer(f"向日葵{number}號")
            tag_customer(child, group)
            add_family_member(db.session, child, {"name": f"家長{number}", "relation": "母親",
                                                  "is_guardian": True})  # fmt: skip
            add_family_member(db.session, child, {"name": f"阿姨{number}", "relation": "阿姨"})
            attendance.enrol(db.session, child, group="向日葵班", starts_on=date(2026, 9, 1),
                             weekdays="1234567")  # fmt: skip
        teacher = db.session.scalar(sa.select(User).where(User.email == "teacher@example.com"))
        give_groups(teacher, "向日葵班")
        db.session.commit()
        db.session.remove()
    browser_login(page, live_server, "teacher@example.com")
    roll = page.locator("#today-roll")
    expect(roll).to_contain_text("Here: 0 of 10 expected")
    for number in range(10):
        card = page.locator(".child-card", has_text=f"向日葵{number}號")
        card.get_by_role("button", name=f"Arrived 向日葵{number}號").tap()
        expect(card.locator(".attendance-state")).to_contain_text("Here since")
    page.reload()
    expect(roll).to_contain_text("Here: 10 of 10 expected")
    for number in range(10):
        card = page.locator(".child-card", has_text=f"向日葵{number}號")
        card.locator("summary", has_text="Picked up…").tap()
        if number == 9:  # an aunt who is not a listed guardian: allowed, and flagged
            card.get_by_label(f"阿姨{number} (阿姨) · not a guardian").check()
        card.get_by_role("button", name="Picked up", exact=True).tap()
        expect(card.locator(".attendance-state")).to_contain_text("Picked up")
    flagged = page.locator(".child-card", has_text="向日葵9號")
    expect(flagged).to_contain_text("Not a listed guardian")
    with live_app.app_context():
        rows = db.session.scalars(sa.select(Attendance)).all()
        assert len(rows) == 10 and all(r.checked_in_at and r.checked_out_at for r in rows)
        assert [r.unexpected_pickup for r in rows].count(True) == 1
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("attendance.%"))
        ).all()
        assert actions.count("attendance.arrive") == 10 and actions.count("attendance.pickup") == 10
        db.session.remove()
