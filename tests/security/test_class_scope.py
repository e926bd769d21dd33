"""A teacher marks attendance for the children of their own classes only: another class's
children are refused on the server (403) and show no buttons on Today."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Attendance, Tag
from tests.conftest import login
from tests.factories import give_groups, make_customer, make_tag, make_user


@pytest.fixture
def two_classes(app, owner):
    sunflower, rainbow = make_tag("向日葵班"), make_tag("彩虹班")
    for tag in (sunflower, rainbow):
        tag.is_group = True
    mine, other = make_customer("王東城"), make_customer("林小美")
    mine.tags.append(sunflower)
    other.tags.append(rainbow)
    teacher = make_user("teacher", email="sun@example.com", name="Sun")
    give_groups(teacher, "向日葵班")
    db.session.commit()
    return teacher, mine.id, other.id


def _rows(customer_id):
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Attendance)
        .where(Attendance.customer_id == customer_id)
    )


@pytest.mark.parametrize("action, form", [
    ("arrive", {}), ("absent", {"reason": "sick"}), ("pickup", {"other": "阿姨"}),
])  # fmt: skip
def test_a_teacher_cannot_mark_another_class(client, two_classes, action, form):
    teacher, _mine, other = two_classes
    login(client, teacher)
    response = client.post(f"/today/{other}/{action}", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert _rows(other) == 0


def test_a_teacher_marks_their_own_class_and_the_desk_any(client, two_classes):
    teacher, mine, other = two_classes
    login(client, teacher)
    assert client.post(f"/today/{mine}/arrive").status_code == 302
    assert _rows(mine) == 1
    client.post("/logout")
    login(client, make_user("frontdesk", email="desk@example.com"))
    assert client.post(f"/today/{other}/arrive").status_code == 302
    assert _rows(other) == 1


def test_today_offers_no_buttons_for_another_class(client, two_classes):
    teacher, mine, other = two_classes
    login(client, teacher)
    rainbow = db.session.scalar(sa.select(Tag).where(Tag.name == "彩虹班"))
    page = client.get("/today", query_string={"group": rainbow.name}).get_data(as_text=True)
    assert "林小美" in page
    assert f"/today/{other}/arrive" not in page
    assert "its own teacher or the front desk marks attendance" in page
    page = client.get("/today").get_data(as_text=True)
    assert f"/today/{mine}/arrive" in page


@pytest.fixture(autouse=True)
def _after_school(app):
    """Classes and the roll are an after-school centre's (a homestay's Today is its guests')."""
    from app.extensions import db as database
    from app.services.shop import ensure_shop

    ensure_shop(database.session).kind = "afterschool"
    database.session.commit()
