"""Customer views: forms and their messages, conflicts, roles, escaping, query counts."""

import contextlib

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.models import Customer, TimelineEntry
from app.services.shop import ensure_shop
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_entry, make_tag, make_user, tag_customer

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.fixture
def desk_client(app, owner, frontdesk):
    client = app.test_client()
    login(client, frontdesk)
    return client


@pytest.fixture
def teacher_client(app, owner, teacher):
    client = app.test_client()
    login(client, teacher)
    return client


def test_create_customer_with_every_field(app, desk_client, frontdesk):
    from app.models import CustomField

    field = CustomField(key="teachers_words", label="老師的話")
    db.session.add(field)
    db.session.commit()
    response = desk_client.post(
        "/customers/new",
        data={
            "display_name": "王東城", "nickname": "東城", "level": "A", "birthday": "2016-02-29",
            "phone": "0912-345-678", "email": "dong@example.com", "postal_address": "台北市",
            "preferred_channel": "line", "occupation": "學生", "summary": "數學小天才",
            "assigned_user_id": str(frontdesk.id), "consent_service": "y", "consent_marketing": "y",
            "consent_method": "paper", f"custom_{field.id}": "很認真",
        },
    )  # fmt: skip
    assert response.status_code == 302
    customer = db.session.scalar(sa.select(Customer).where(Customer.display_name == "王東城"))
    assert customer.member_number == "M000001" and customer.birthday.isoformat() == "2016-02-29"
    assert (
        customer.consents == {"service", "marketing"} and customer.assigned_user_id == frontdesk.id
    )
    page = desk_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "很認真" in page and "數學小天才" in page and "M000001" in page


def test_bad_customer_input_gets_field_messages(desk_client):
    make_customer("A", member_number="M000009")
    response = desk_client.post(
        "/customers/new",
        data={"display_name": "", "email": "not-an-email", "birthday": "2019-02-30", "phone": "call me!",
              "level": "Z", "member_number": "M000009"},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in [
        "Enter a name.",
        "Enter a valid email address.",
        "Enter a real date",
        "Enter a phone number",
        "Choose one of the options.",
    ]:
        assert message in page
    ok_but_duplicate = desk_client.post(
        "/customers/new", data={"display_name": "B", "level": "A", "member_number": "M000009"}
    )
    assert ok_but_duplicate.status_code == 422
    assert "Another guest already has this member number." in ok_but_duplicate.get_data(
        as_text=True
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


def test_stale_edit_shows_conflict_and_both_values(app, desk_client):
    customer = make_customer("王小明", phone="0911")
    other = app.test_client()
    login(other, make_user("frontdesk"))
    assert (
        other.post(
            f"/customers/{customer.id}/edit",
            data={"display_name": "王小明", "level": "C", "phone": "0922", "version": "1"},
        ).status_code
        == 302
    )
    response = desk_client.post(
        f"/customers/{customer.id}/edit",
        data={"display_name": "王小明", "level": "C", "phone": "0933", "version": "1"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this guest" in page and "0922" in page and "0933" in page
    db.session.refresh(customer)
    assert customer.phone == "0922"
    # Saving again from the conflict form (which now carries version 2) keeps "mine".
    again = desk_client.post(
        f"/customers/{customer.id}/edit",
        data={"display_name": "王小明", "level": "C", "phone": "0933", "version": "2"},
    )
    assert again.status_code == 302
    db.session.refresh(customer)
    assert customer.phone == "0933" and customer.version == 3


def test_teacher_reads_and_writes_notes_but_cannot_change_the_profile(teacher_client):
    customer = make_customer("小明")
    tag = make_tag("VIP")
    page = teacher_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Edit profile" not in page and "Archive" not in page and 'id="tag-name"' not in page
    assert (
        teacher_client.post(
            f"/customers/{customer.id}/entries", data={"kind": "note", "body": "午睡很好"}
        ).status_code
        == 302
    )
    assert db.session.scalar(sa.select(TimelineEntry.body)) == "午睡很好"
    assert (
        teacher_client.post(
            f"/customers/{customer.id}/edit", data={"display_name": "X", "version": "1"}
        ).status_code
        == 403
    )
    assert (
        teacher_client.post(f"/customers/{customer.id}/tags", data={"name": "VIP"}).status_code
        == 403
    )
    assert teacher_client.post(f"/customers/{customer.id}/tags/{tag.id}/remove").status_code == 403
    assert teacher_client.post(f"/customers/{customer.id}/archive").status_code == 403
    assert teacher_client.get("/tags/").status_code == 403


def test_archive_hides_from_list_and_can_be_undone(desk_client):
    customer = make_customer("要封存")
    desk_client.post(
        f"/customers/{customer.id}/archive", data={"archived": "1"}, follow_redirects=True
    )
    assert "要封存" not in desk_client.get("/customers/").get_data(as_text=True)
    assert "要封存" in desk_client.get("/customers/?archived=1").get_data(as_text=True)
    desk_client.post(
        f"/customers/{customer.id}/archive", data={"archived": "0"}, follow_redirects=True
    )
    assert "要封存" in desk_client.get("/customers/").get_data(as_text=True)


def test_htmx_compose_returns_the_new_entry_and_errors_retarget(desk_client):
    customer = make_customer()
    headers = {"HX-Request": "true", "HX-Target": "feed"}
    ok = desk_client.post(
        f"/customers/{customer.id}/entries", data={"kind": "call", "body": "回電"}, headers=headers
    )
    assert ok.status_code == 201
    assert 'class="entry kind-call' in ok.get_data(as_text=True) and "<html" not in ok.get_data(
        as_text=True
    )
    empty = desk_client.post(
        f"/customers/{customer.id}/entries", data={"kind": "note", "body": "  "}, headers=headers
    )
    assert empty.status_code == 422 and empty.headers["HX-Retarget"] == "#composer-error"
    assert "Write something first." in empty.get_data(as_text=True)
    long = desk_client.post(
        f"/customers/{customer.id}/entries",
        data={"kind": "note", "body": "長" * 10_000},
        headers=headers,
    )
    assert long.status_code == 422
    assert "At most 5000 characters, please (this has 10000)." in long.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)) == 1


def test_edit_entry_keeps_revisions_visible(app, desk_client, frontdesk):
    customer = make_customer()
    entry = make_entry(customer, author=frontdesk, body="first words")
    response = desk_client.post(
        f"/entries/{entry.id}/edit", data={"body": "second words"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "second words" in response.get_data(as_text=True)
    revisions = desk_client.get(f"/entries/{entry.id}/revisions").get_data(as_text=True)
    assert "first words" in revisions and frontdesk.name in revisions


def test_tag_add_creates_with_colour_and_remove_offers_undo(desk_client):
    customer = make_customer()
    headers = {"HX-Request": "true", "HX-Target": "tag-box"}
    added = desk_client.post(
        f"/customers/{customer.id}/tags",
        data={"name": "紅酒同好會", "colour": "purple"},
        headers=headers,
    )
    text = added.get_data(as_text=True)
    assert added.status_code == 200 and "tag-purple" in text and "紅酒同好會" in text
    tag_id = db.session.scalar(sa.select(sa.text("id")).select_from(sa.text("tag")))
    removed = desk_client.post(f"/customers/{customer.id}/tags/{tag_id}/remove", headers=headers)
    text = removed.get_data(as_text=True)
    assert "Removed 紅酒同好會." in text and 'hx-swap-oob="innerHTML"' in text and "Undo" in text
    suggestions = desk_client.get(f"/customers/{customer.id}/tags/suggest?name=紅酒").get_data(
        as_text=True
    )
    assert 'value="紅酒同好會"' in suggestions


def test_bulk_tag_selected_customers(desk_client):
    customers = [make_customer(f"C{n}") for n in range(3)]
    response = desk_client.post(
        "/customers/bulk-tags",
        data={
            "customer_ids": [str(c.id) for c in customers[:2]],
            "tag": "二月品酒會",
            "action": "add",
            "next": "/customers/",
        },
    )
    assert response.status_code == 302
    listing = desk_client.get("/customers/?q=tag:二月品酒會").get_data(as_text=True)
    assert "C0" in listing and "C1" in listing and ">C2<" not in listing
    assert "2 guests" in listing


def test_list_sorts_and_filters(desk_client):
    make_customer("Bob", level="B")
    make_customer("Alice", level="A")
    page = desk_client.get("/customers/?sort=name&dir=desc").get_data(as_text=True)
    assert page.index("Bob") < page.index("Alice")
    page = desk_client.get("/customers/?q=level:A").get_data(as_text=True)
    assert "Alice" in page and "Bob" not in page
    partial = desk_client.get(
        "/customers/?q=level:A", headers={"HX-Request": "true", "HX-Target": "customer-results"}
    )
    assert "<html" not in partial.get_data(as_text=True)


@pytest.mark.parametrize("evil", HOSTILE)
def test_hostile_text_is_escaped_everywhere(desk_client, frontdesk, evil):
    customer = make_customer(evil, nickname=evil, summary=evil)
    make_entry(customer, author=frontdesk, body=evil)
    make_alert(customer, keywords=evil, body=evil)
    tag_customer(customer, make_tag(evil[:60]))
    for url in [
        f"/customers/{customer.id}",
        "/customers/",
        "/feed",
        "/tags/",
        f"/customers/{customer.id}/edit",
    ]:
        page = desk_client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page, url


def test_shop_kind_changes_vocabulary(desk_client):
    shop = ensure_shop(db.session)
    shop.kind = "homestay"
    db.session.commit()
    assert "<h1>Guests</h1>" in desk_client.get("/customers/").get_data(as_text=True)
    shop.kind = "afterschool"
    db.session.commit()
    assert "<h1>Children</h1>" in desk_client.get("/customers/").get_data(as_text=True)
    desk_client.post("/language", data={"lang": "zh_Hant"})
    assert "<h1>學生</h1>" in desk_client.get("/customers/").get_data(as_text=True)


@contextlib.contextmanager
def count_queries():
    statements = []

    def _count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def _fill(customer, entries: int, tags: int, author):
    for number in range(entries):
        make_entry(customer, author=author, body=f"note {number}")
    for number in range(tags):
        tag_customer(customer, make_tag(f"{customer.display_name}-tag-{number}"))
    make_alert(customer, author=author)


def test_customer_page_runs_a_fixed_number_of_queries(desk_client, frontdesk, owner):
    small, large = make_customer("Small"), make_customer("Large")
    _fill(small, 2, 1, frontdesk)
    _fill(large, 40, 12, owner)
    counts = []
    for customer in (small, large):
        with count_queries() as statements:
            assert desk_client.get(f"/customers/{customer.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    print("customer page queries:", counts[0])
    print("\n".join(s.split("\n")[0][:150] for s in statements))


def test_list_page_runs_a_fixed_number_of_queries(desk_client, frontdesk):
    first = make_customer("First")
    tag_customer(first, make_tag("first tag"))
    with count_queries() as few:
        desk_client.get("/customers/")
    for number in range(30):
        customer = make_customer(f"Customer {number}")
        tag_customer(customer, make_tag(f"tag {number % 7}"))
        if number % 3 == 0:
            make_alert(customer)
    with count_queries() as many:
        assert desk_client.get("/customers/").status_code == 200
    assert len(few) == len(many), (len(few), len(many))
    print("list page queries:", len(many))


def test_shop_feed_shows_todays_entries_with_alert_badges(desk_client, frontdesk, teacher):
    child = make_customer("林小明")
    make_alert(child, author=teacher)
    make_entry(child, author=teacher, body="午睡很好")
    make_entry(make_customer("Amy"), author=frontdesk, body="called mum", kind="call")
    page = desk_client.get("/feed").get_data(as_text=True)
    assert "午睡很好" in page and "called mum" in page and "alert-badge" in page
    only_teacher = desk_client.get(f"/feed?author={teacher.id}").get_data(as_text=True)
    assert "午睡很好" in only_teacher and "called mum" not in only_teacher
    only_calls = desk_client.get("/feed?kind=call").get_data(as_text=True)
    assert "called mum" in only_calls and "午睡很好" not in only_calls
    yesterday = desk_client.get("/feed?day=2020-01-01").get_data(as_text=True)
    assert "Nothing was written on this day." in yesterday


def test_family_date_and_tag_forms_refuse_bad_input(desk_client):
    from app.models import FamilyMember, ImportantDate, Tag

    customer = make_customer("東城")
    bad_family = desk_client.post(
        f"/customers/{customer.id}/family",
        data={"family-name": "", "family-email": "nope", "family-birthday": "2020-13-01"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Family member not added" in bad_family and "Enter a name." in bad_family
    assert "Enter a valid email address." in bad_family and "Enter a real date" in bad_family
    bad_date = desk_client.post(
        f"/customers/{customer.id}/dates",
        data={"date-label": "", "date-date": "2021-02-30"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Date not added" in bad_date and "Say what the date is." in bad_date
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FamilyMember)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportantDate)) == 0
    vip, other = make_tag("VIP"), make_tag("Other")
    clash = desk_client.post(
        f"/tags/{other.id}/rename", data={f"rename{other.id}-name": "vip"}, follow_redirects=True
    )
    assert "Another tag already has this name. Merge them instead." in clash.get_data(as_text=True)
    bad_colour = desk_client.post(
        f"/tags/{other.id}/colour",
        data={f"colour{other.id}-colour": "rainbow"},
        follow_redirects=True,
    )
    assert "Choose one of the options." in bad_colour.get_data(as_text=True)
    assert (
        db.session.get(Tag, other.id).name == "Other"
        and db.session.get(Tag, vip.id).colour == "amber"
    )


def test_an_alert_or_a_tag_is_not_a_contact(desk_client):
    """Recording an alert or a tag leaves "Last contact" alone: the person stays in
    "not contacted for 15 days" and the no-contact rule still reminds about them."""
    from datetime import timedelta

    from app.clock import utcnow
    from app.models import Reminder, ReminderRule
    from app.services import reminders
    from app.services.shop import shop_context

    customer = make_customer("久未聯絡")
    customer.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    desk_client.post(
        f"/customers/{customer.id}/alerts",
        data={"category": "allergy", "keywords": "花生", "body": "花生過敏"},
    )
    desk_client.post(f"/customers/{customer.id}/tags", data={"name": "VIP"})
    page = desk_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Last contact</dt><dd>Never" in page
    listed = desk_client.get("/customers/?q=last_contact+>+15d").get_data(as_text=True)
    assert "久未聯絡" in listed
    db.session.add(ReminderRule(name="quiet", kind="no_contact", days=15, levels=["A", "B", "C"]))
    db.session.commit()
    reminders.run_rules(db.session, shop_context(db.session))
    db.session.commit()
    assert db.session.scalar(sa.select(Reminder.customer_id)) == customer.id
    # A note is a contact.
    desk_client.post(f"/customers/{customer.id}/entries", data={"kind": "note", "body": "聊了"})
    listed = desk_client.get("/customers/?q=last_contact+>+15d").get_data(as_text=True)
    assert "久未聯絡" not in listed


def test_timeline_words_are_translated(desk_client):
    customer = make_customer("林小明")
    desk_client.post(
        f"/customers/{customer.id}/alerts",
        data={"category": "allergy", "keywords": "花生", "body": "花生過敏"},
    )
    desk_client.post(f"/customers/{customer.id}/tags", data={"name": "VIP"})
    page = desk_client.get(
        f"/customers/{customer.id}", headers={"Accept-Language": "zh-TW"}
    ).get_data(as_text=True)
    for words in ("結束這個警示", "加上標籤 VIP"):
        assert words in page, words
    for english in ("End this alert", "Added tag"):
        assert english not in page, english


def test_new_customer_form_refuses_half_a_guardian_or_half_an_alert(desk_client):
    from app.models import Customer, FamilyMember, TimelineEntry

    for data, message in (
        ({"guardian_phone": "0912345678"}, "Enter a name."),
        ({"guardian_name": "媽媽", "guardian_email": "not-an-email"}, "Enter a valid email"),
        ({"alert_keywords": "花生"}, "Write something first."),
        ({"alert_body": "很嚴重"}, "Give at least one keyword."),
    ):
        response = desk_client.post(
            "/customers/new", data={"display_name": "新生", "level": "C", **data}
        )
        assert response.status_code == 422, data
        page = response.get_data(as_text=True)
        assert message in page, data
        assert 'value="新生"' in page  # what was typed stays
    for model in (Customer, FamilyMember, TimelineEntry):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_a_quick_note_sent_without_javascript_returns_to_the_page_it_came_from(teacher_client):
    customer = make_customer("小美")
    from_today = teacher_client.post(
        f"/customers/{customer.id}/entries",
        data={"kind": "note", "body": "吃完午餐", "return_to": "today"},
    )
    assert from_today.headers["Location"].endswith(f"/today/{customer.id}")
    page = teacher_client.get(from_today.headers["Location"]).get_data(as_text=True)
    assert "吃完午餐" in page and "Back to today" in page
    elsewhere = teacher_client.post(
        f"/customers/{customer.id}/entries",
        data={"kind": "note", "body": "x", "return_to": "https://evil.example"},
    )
    assert elsewhere.headers["Location"].endswith(f"/customers/{customer.id}")


def test_removing_a_family_member_or_a_date_is_audited(desk_client, frontdesk):
    from datetime import date

    from app.models import AuditEvent, FamilyMember, ImportantDate
    from app.services.customers import add_family_member, add_important_date

    customer = make_customer("西城")
    member = add_family_member(db.session, customer, {"name": "西媽媽", "relation": "媽媽"})
    day = add_important_date(db.session, customer, "入學日", date(2026, 9, 1))
    other = make_customer("別人")
    db.session.commit()
    member_id, date_id = member.id, day.id
    # Someone else's row through this customer's address: not found, nothing removed.
    assert desk_client.post(f"/customers/{other.id}/family/{member_id}/delete").status_code == 404
    assert (
        desk_client.post(f"/customers/{customer.id}/family/{member_id}/delete").status_code == 302
    )
    assert desk_client.post(f"/customers/{customer.id}/dates/{date_id}/delete").status_code == 302
    assert db.session.get(FamilyMember, member_id) is None
    assert db.session.get(ImportantDate, date_id) is None
    rows = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.target_id == customer.id).order_by(AuditEvent.id)
    ).all()
    assert [(r.action, r.detail, r.user_id) for r in rows if r.action.endswith("_remove")] == [
        ("customer.family_remove", "媽媽 西媽媽", frontdesk.id),
        ("customer.date_remove", "入學日 2026-09-01", frontdesk.id),
    ]


def test_compose_dates_an_entry_earlier_and_refuses_the_future(desk_client):
    """The composer's "it happened earlier": the feed shows it in its place and as written
    later; a day still to come or a day that is not one is refused in the reader's words,
    and nothing is written."""
    from datetime import timedelta

    from app.clock import utcnow

    customer = make_customer()
    headers = {"HX-Request": "true", "HX-Target": "feed"}
    yesterday = (utcnow() + timedelta(hours=8) - timedelta(days=1)).date().isoformat()
    ok = desk_client.post(
        f"/customers/{customer.id}/entries",
        data={"kind": "call", "body": "昨天打過電話", "happened_on": yesterday,
              "happened_time": "15:30"},
        headers=headers,
    )  # fmt: skip
    assert ok.status_code == 201
    assert "written" in ok.get_data(as_text=True)
    entry = db.session.scalar(sa.select(TimelineEntry))
    assert entry.recorded_at is not None and entry.created_at < entry.recorded_at
    tomorrow = (utcnow() + timedelta(hours=8) + timedelta(days=1)).date().isoformat()
    for data, message in (
        ({"happened_on": tomorrow}, "That is still to come"),
        ({"happened_on": "2026-02-30"}, "Enter a real date"),
        ({"happened_on": yesterday, "happened_time": "25:99"}, "Enter a time of day"),
        ({"happened_on": "1999-01-01"}, "from the year 2000 on"),
    ):
        refused = desk_client.post(
            f"/customers/{customer.id}/entries",
            data={"kind": "note", "body": "以後的事", **data},
            headers=headers,
        )
        assert refused.status_code == 422, data
        assert message in refused.get_data(as_text=True), data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)) == 1
