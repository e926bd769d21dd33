"""Enquiries at the desk: recorded in the shop's terms (a homestay's nights and party, a
centre's grade and trial class), refused with words when wrong, moved along the stages (lost
needs a reason from the owner's list), marked hot, each contact logged with a warning when
it follows too closely, and hot enquiries left quiet coming back to their owner."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import AuditEvent, Enquiry
from app.services import enquiries
from app.services.shop import ensure_shop, shop_context
from tests.conftest import login
from tests.factories import make_customer, make_user


@pytest.fixture
def homestay(app):
    make_user("owner", email="first@example.com")
    shop = ensure_shop(db.session)
    shop.kind = "homestay"
    db.session.commit()
    return shop_context(db.session).today


@pytest.fixture
def centre(app):
    make_user("owner", email="first@example.com")
    shop = ensure_shop(db.session)
    shop.kind = "afterschool"
    db.session.commit()
    return shop_context(db.session).today


def _new(client, **fields):
    data = {"name": "林小姐", "phone": "0912-345-678", "source": "line", "confidence": "60",
            "budget": "12000", **fields}  # fmt: skip
    return client.post("/enquiries/new", data=data)


def test_a_homestay_enquiry_keeps_the_nights_and_party_and_lands_on_the_board(
    client, frontdesk, homestay
):
    login(client, frontdesk)
    arriving = homestay + timedelta(days=20)
    response = _new(client, wanted_from=arriving.isoformat(),
                    wanted_to=(arriving + timedelta(days=2)).isoformat(), adults="2",
                    children="1", room_wanted="海景雙人房", wants="想要靠海的房間")  # fmt: skip
    assert response.status_code == 302
    enquiry = db.session.scalar(sa.select(Enquiry))
    assert (enquiry.wanted_from, enquiry.adults, enquiry.children, enquiry.room_wanted) == (
        arriving,
        2,
        1,
        "海景雙人房",
    )
    assert enquiry.owner_id == frontdesk.id and enquiry.stage == "new"
    assert enquiry.expected_value == 7200
    page = client.get("/enquiries", headers={"Accept-Language": "zh-TW"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "林小姐" in text and "想要靠海的房間" in text


def test_a_centre_enquiry_asks_for_grade_start_month_and_trial(client, owner, centre):
    login(client, owner)
    form = client.get("/enquiries/new").get_data(as_text=True)
    assert "Child&#39;s grade" in form or "Child's grade" in form
    assert "Arriving" not in form
    response = _new(client, child_grade="小二", start_month="2027-02-17",
                    trial_on=(centre + timedelta(days=3)).isoformat())  # fmt: skip
    assert response.status_code == 302
    enquiry = db.session.scalar(sa.select(Enquiry))
    assert enquiry.child_grade == "小二" and enquiry.start_month == date(2027, 2, 1)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": ""}, "請輸入"),
        ({"phone": "", "email": ""}, "電話"),
        ({"email": "not-an-address"}, "name@example.com"),
        ({"confidence": "150"}, "0"),
        ({"budget": "abc"}, "整數"),
        ({"wanted_from": "2027-03-05", "wanted_to": "2027-03-04"}, "離開"),
        ({"wants": "字" * 2001}, "2000"),
    ],
)
def test_bad_input_is_refused_with_words_and_nothing_saved(
    client, frontdesk, homestay, fields, words
):
    login(client, frontdesk)
    response = client.post(
        "/enquiries/new",
        data={"name": "林小姐", "phone": "0912", "source": "phone", **fields},
        headers={"Accept-Language": "zh-TW"},
    )
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Enquiry.id))) == 0


def test_teachers_cannot_see_or_write_enquiries(client, teacher, owner, homestay):
    login(client, teacher)
    assert client.get("/enquiries").status_code == 403
    assert _new(client).status_code == 403
    assert client.get("/enquiries/reasons").status_code == 403


def _enquiry(owner, **fields):
    enquiry = enquiries.create(
        db.session, {"name": "王先生", "phone": "0922", "budget": 10000, "confidence": 50,
                     **fields},
        kind="homestay", today=date.today(), actor=owner,
    )  # fmt: skip
    db.session.commit()
    return enquiry


def test_lost_needs_a_reason_from_the_owners_list_and_can_be_reopened(client, owner, homestay):
    login(client, owner)
    enquiry = _enquiry(owner)
    assert client.post("/enquiries/reasons", data={"name": "價格"}).status_code == 302
    assert client.post("/enquiries/reasons", data={"name": "價格"}).status_code == 422
    reason = enquiries.lost_reasons(db.session)[0]
    refused = client.post(f"/enquiries/{enquiry.id}/stage", data={"stage-stage": "lost"},
                          headers={"Accept-Language": "zh-TW"})  # fmt: skip
    assert refused.status_code == 422 and "原因" in refused.get_data(as_text=True)
    done = client.post(f"/enquiries/{enquiry.id}/stage",
                       data={"stage-stage": "lost", "stage-lost_reason_id": str(reason.id)})  # fmt: skip
    assert done.status_code == 302
    db.session.expire_all()
    enquiry = db.session.get(Enquiry, enquiry.id)
    assert enquiry.stage == "lost" and enquiry.lost_reason.name == "價格" and enquiry.closed_at
    client.post(f"/enquiries/{enquiry.id}/stage", data={"stage-stage": "contacted"})
    db.session.expire_all()
    enquiry = db.session.get(Enquiry, enquiry.id)
    assert enquiry.stage == "contacted" and enquiry.closed_at is None
    assert enquiry.lost_reason_id is None
    actions = db.session.scalars(sa.select(AuditEvent.detail).where(
        AuditEvent.action == "enquiry.stage")).all()  # fmt: skip
    assert actions == ["new → lost", "lost → contacted"]


def test_hot_by_one_click_and_contacts_too_close_are_warned(client, frontdesk, homestay):
    login(client, frontdesk)
    enquiry = _enquiry(frontdesk)
    swapped = client.post(f"/enquiries/{enquiry.id}/hot", data={"hot": "y"},
                          headers={"HX-Request": "true"})  # fmt: skip
    assert swapped.status_code == 200 and "Not hot" in swapped.get_data(as_text=True)
    first = client.post(f"/enquiries/{enquiry.id}/contact",
                        data={"contact-channel": "phone", "contact-note": "報價 2 晚"},
                        follow_redirects=True)  # fmt: skip
    assert "That is close on the last time" not in first.get_data(as_text=True)
    second = client.post(f"/enquiries/{enquiry.id}/contact",
                         data={"contact-channel": "line", "contact-note": "再問一次"},
                         follow_redirects=True, headers={"Accept-Language": "zh-TW"})  # fmt: skip
    assert "跟得太緊" in second.get_data(as_text=True)
    db.session.expire_all()
    enquiry = db.session.get(Enquiry, enquiry.id)
    assert enquiry.hot and enquiry.stage == "contacted" and len(enquiry.contacts) == 2


def test_a_hot_enquiry_left_quiet_comes_back_to_its_owner(app, homestay):
    desk = make_user("frontdesk")
    other = make_user("frontdesk", email="other@example.com")
    quiet = _enquiry(desk)
    enquiries.set_hot(db.session, quiet, True, actor=desk)
    recent = _enquiry(desk)
    enquiries.set_hot(db.session, recent, True, actor=desk)
    cold = _enquiry(desk)
    db.session.commit()
    now = utcnow()
    enquiries.record_contact(db.session, quiet, channel="phone", note="", actor=desk,
                             now=now - timedelta(days=4))  # fmt: skip
    enquiries.record_contact(db.session, recent, channel="phone", note="", actor=desk, now=now)
    enquiries.record_contact(db.session, cold, channel="phone", note="", actor=desk,
                             now=now - timedelta(days=9))  # fmt: skip
    db.session.commit()
    assert [e.id for e in enquiries.quiet_hot(db.session, desk.id, now)] == [quiet.id]
    assert enquiries.quiet_hot(db.session, other.id, now) == []


def test_an_enquiry_from_an_existing_customer_links_to_them(client, frontdesk, homestay):
    login(client, frontdesk)
    customer = make_customer("陳美玲")
    response = _new(client, customer_id=str(customer.id), name="陳美玲", phone="")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/customers/{customer.id}" in page


def test_a_homestay_enquiry_won_becomes_a_booking_without_retyping(client, frontdesk, homestay):
    from app.models import Stay, TimelineEntry
    from app.services import stays

    room = stays.save_room(db.session, None, "海景雙人房")
    db.session.commit()
    login(client, frontdesk)
    arriving = homestay + timedelta(days=10)
    enquiry = enquiries.create(
        db.session, {"name": "林小姐", "phone": "0912345678", "wants": "靠海的房間",
                     "wanted_from": arriving, "wanted_to": arriving + timedelta(days=2),
                     "adults": 3},
        kind="homestay", today=homestay, actor=frontdesk,
    )  # fmt: skip
    db.session.commit()
    page = client.get(f"/enquiries/{enquiry.id}").get_data(as_text=True)
    link = page.split('href="/bookings/new?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    form = client.get("/bookings/new?" + link).get_data(as_text=True)
    assert 'value="林小姐"' in form and 'value="0912345678"' in form
    assert f'value="{arriving.isoformat()}"' in form and 'name="enquiry_id"' in form
    response = client.post("/bookings/new", data={
        "enquiry_id": str(enquiry.id), "guest_id": "", "guest_name": "林小姐",
        "guest_phone": "0912345678", "room_id": str(room.id),
        "check_in": arriving.isoformat(), "check_out": (arriving + timedelta(days=2)).isoformat(),
        "adults": "3", "occasion": "",
    })  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    enquiry = db.session.get(Enquiry, enquiry.id)
    stay = db.session.scalar(sa.select(Stay))
    assert enquiry.stage == "won" and enquiry.customer_id == stay.customer_id
    notes = db.session.scalars(sa.select(TimelineEntry.body).where(
        TimelineEntry.customer_id == stay.customer_id)).all()  # fmt: skip
    assert any("靠海的房間" in note for note in notes)


def test_a_centre_enquiry_won_enrols_the_child_in_their_class(client, frontdesk, centre):
    from app.models import Customer, Enrolment
    from tests.factories import make_tag

    sunflowers = make_tag("向日葵班")
    sunflowers.is_group = True
    db.session.commit()
    login(client, frontdesk)
    enquiry = enquiries.create(
        db.session, {"name": "陳小安", "phone": "0922333444", "child_grade": "小二",
                     "start_month": date(2027, 2, 1)},
        kind="afterschool", today=centre, actor=frontdesk,
    )  # fmt: skip
    db.session.commit()
    refused = client.post(f"/enquiries/{enquiry.id}/enrol", data={"enrol-group": ""},
                          headers={"Accept-Language": "zh-TW"})  # fmt: skip
    assert refused.status_code == 422
    response = client.post(f"/enquiries/{enquiry.id}/enrol", data={"enrol-group": "向日葵班"})
    assert response.status_code == 302
    db.session.expire_all()
    child = db.session.scalar(sa.select(Customer).where(Customer.display_name == "陳小安"))
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.customer_id == child.id))
    assert (enrolment.group_name, enrolment.starts_on) == ("向日葵班", date(2027, 2, 1))
    assert [tag.name for tag in child.tags] == ["向日葵班"]
    assert db.session.get(Enquiry, enquiry.id).stage == "won"
    again = client.post(f"/enquiries/{enquiry.id}/enrol", data={"enrol-group": "向日葵班"})
    assert again.status_code == 422


def test_my_day_lists_my_quiet_hot_enquiries_and_follow_ups_due(client, frontdesk, homestay):
    quiet = _enquiry(frontdesk, name="熱點林小姐")
    enquiries.set_hot(db.session, quiet, True, actor=frontdesk)
    enquiries.record_contact(db.session, quiet, channel="phone", note="", actor=frontdesk,
                             now=utcnow() - timedelta(days=5))  # fmt: skip
    _enquiry(frontdesk, name="追蹤王先生", next_follow_up=homestay)
    _enquiry(frontdesk, name="以後再說", next_follow_up=homestay + timedelta(days=3))
    db.session.commit()
    login(client, frontdesk)
    page = client.get("/", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "熱點林小姐" in page and "追蹤王先生" in page and "以後再說" not in page
    assert "要回覆的詢問" in page


def test_the_owner_sets_the_follow_up_rhythm(client, owner, frontdesk, homestay):
    quiet = _enquiry(frontdesk)
    enquiries.set_hot(db.session, quiet, True, actor=frontdesk)
    enquiries.record_contact(db.session, quiet, channel="phone", note="", actor=frontdesk,
                             now=utcnow() - timedelta(days=4))  # fmt: skip
    db.session.commit()
    assert [e.id for e in enquiries.quiet_hot(db.session, frontdesk.id)] == [quiet.id]
    login(client, owner)
    refused = client.post("/enquiries/rhythm", data={"rhythm-quiet_days": "0",
                          "rhythm-min_gap_hours": "20"}, headers={"Accept-Language": "zh-TW"})  # fmt: skip
    assert refused.status_code == 422 and "60" in refused.get_data(as_text=True)
    saved = client.post("/enquiries/rhythm",
                        data={"rhythm-quiet_days": "7", "rhythm-min_gap_hours": "0"})  # fmt: skip
    assert saved.status_code == 302
    db.session.expire_all()
    assert enquiries.quiet_hot(db.session, frontdesk.id) == []
    enquiries.record_contact(db.session, quiet, channel="line", note="", actor=frontdesk)
    again = enquiries.record_contact(db.session, quiet, channel="line", note="", actor=frontdesk)
    assert not again.too_soon  # 0 hours: never warn


def test_erasing_a_customer_leaves_no_words_in_their_enquiries(app, homestay):
    from app.models import EnquiryContact
    from app.services import privacy

    desk = make_user("frontdesk")
    customer = make_customer("陳美玲")
    enquiry = _enquiry(desk, name="陳美玲", customer_id=customer.id, wants="想住海景房",
                       email="mei@example.com", budget=9000)  # fmt: skip
    enquiries.record_contact(db.session, enquiry, channel="phone", note="她說下月再訂",
                             actor=desk)  # fmt: skip
    db.session.commit()
    privacy.erase(db.session, customer, typed_name="陳美玲")
    db.session.commit()
    db.session.expire_all()
    enquiry = db.session.get(Enquiry, enquiry.id)
    assert (enquiry.name, enquiry.phone, enquiry.email, enquiry.wants) == ("—", "", "", "")
    assert enquiry.budget == 9000
    notes = db.session.scalars(sa.select(EnquiryContact.note)).all()
    assert notes == [""]
