"""Groups for the teacher's Today view: from tags the owner marks, or from a custom field;
each teacher sees the children of their groups."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CustomField, Tag, User
from app.services.customers import set_custom_values
from tests.conftest import login
from tests.factories import (
    give_groups,
    make_alert,
    make_customer,
    make_tag,
    make_user,
    tag_customer,
)


def test_groups_from_tags_and_a_teacher_sees_hers(client, owner, teacher):
    sunflowers, stars = make_tag("向日葵班"), make_tag("星星班")
    mine, other = make_customer("小葵"), make_customer("小星")
    tag_customer(mine, sunflowers)
    tag_customer(other, stars)
    make_alert(mine, keywords="花生")
    login(client, owner)
    response = client.post(
        "/settings/groups",
        data={"source": "tags", "tags": [str(sunflowers.id), str(stars.id)], "field_id": "",
              f"teacher-{teacher.id}": "向日葵班"},
    )  # fmt: skip
    assert response.status_code == 302
    assert {t.name for t in db.session.scalars(sa.select(Tag).where(Tag.is_group.is_(True)))} == {
        "向日葵班",
        "星星班",
    }
    db.session.refresh(teacher)
    assert teacher.groups == ["向日葵班"]
    client.post("/logout")
    login(client, teacher)
    page = client.get("/").get_data(as_text=True)
    assert "小葵" in page and "小星" not in page and "Allergy: 花生" in page
    both = client.get("/today?group=向日葵班&group=星星班").get_data(as_text=True)
    assert "小葵" in both and "小星" in both


def test_groups_from_a_custom_field(client, owner, teacher):
    field = CustomField(key="class", label="班級")
    db.session.add(field)
    db.session.commit()
    for name, group in (("甲生", "甲班"), ("乙生", "乙班")):
        customer = make_customer(name)
        set_custom_values(db.session, customer, {field.id: group})
    db.session.commit()
    login(client, owner)
    missing = client.post("/settings/groups", data={"source": "field", "field_id": ""})
    assert missing.status_code == 422 and "Choose the field" in missing.get_data(as_text=True)
    client.post("/settings/groups", data={"source": "field", "field_id": str(field.id)})
    client.post(
        "/settings/groups",
        data={"source": "field", "field_id": str(field.id), f"teacher-{teacher.id}": "乙班"},
    )
    assert db.session.get(User, teacher.id).groups == ["乙班"]
    client.post("/logout")
    login(client, teacher)
    page = client.get("/today").get_data(as_text=True)
    assert "乙生" in page and "甲生" not in page


def test_a_teachers_class_follows_its_tag_when_renamed_merged_or_deleted(client, owner, teacher):
    """Renaming a class tag used to take the class away from its teacher (groups are kept
    by name): now her Today page keeps showing her children."""
    from app.services import tags as tag_service

    sunflowers, stars = make_tag("向日葵班"), make_tag("星星班")
    child = make_customer("小葵")
    tag_customer(child, sunflowers)
    for tag in (sunflowers, stars):
        tag.is_group = True
    give_groups(teacher, "向日葵班", "星星班")
    db.session.commit()
    login(client, owner)
    response = client.post(
        f"/tags/{sunflowers.id}/rename", data={f"rename{sunflowers.id}-name": "太陽花班"}
    )
    assert response.status_code == 302
    assert sorted(db.session.get(User, teacher.id).groups) == ["太陽花班", "星星班"]
    client.post("/logout")
    login(client, teacher)
    assert "小葵" in client.get("/today?group=太陽花班").get_data(as_text=True)
    assert "小葵" in client.get("/").get_data(as_text=True)
    tag_service.merge(db.session, db.session.get(Tag, stars.id), db.session.get(Tag, sunflowers.id))
    db.session.commit()
    assert db.session.get(User, teacher.id).groups == ["太陽花班"]
    tag_service.delete(db.session, db.session.get(Tag, sunflowers.id))
    db.session.commit()
    assert db.session.get(User, teacher.id).groups == []


def test_undoing_a_tag_merge_gives_each_teacher_their_class_back(app, owner):
    """A merge moves the teachers of the merged class to the target class; its undo puts
    them back, and takes the target class away from those who had it only by the merge."""
    from app.services import tags as tag_service

    stars, suns = make_tag("星星班"), make_tag("太陽班")
    for tag in (stars, suns):
        tag.is_group = True
    only_stars = make_user("teacher", email="stars@example.com")
    both = make_user("teacher", email="both@example.com")
    give_groups(only_stars, "星星班")
    give_groups(both, "太陽班", "星星班")
    db.session.commit()
    tag_service.merge(db.session, db.session.get(Tag, stars.id), db.session.get(Tag, suns.id))
    db.session.commit()
    assert db.session.get(User, only_stars.id).groups == ["太陽班"]
    assert db.session.get(User, both.id).groups == ["太陽班"]
    tag_service.undo_merge(db.session, tag_service.last_merge(db.session))
    db.session.commit()
    assert db.session.get(User, only_stars.id).groups == ["星星班"]
    assert sorted(db.session.get(User, both.id).groups) == ["太陽班", "星星班"]


@pytest.fixture(autouse=True)
def _after_school(app):
    """Classes and the roll are an after-school centre's (a homestay's Today is its guests')."""
    from app.extensions import db as database
    from app.services.shop import ensure_shop

    ensure_shop(database.session).kind = "afterschool"
    database.session.commit()
