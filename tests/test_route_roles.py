"""Every route × every role gets the expected status; every route declares its roles."""

import re

import pytest

from tests.conftest import login
from tests.factories import make_user

ANON, TEACHER, DESK, OWNER = "anonymous", "teacher", "frontdesk", "owner"
STAFF_ONLY = {ANON: 302, TEACHER: 200, DESK: 200, OWNER: 200}
OWNER_ONLY = {ANON: 302, TEACHER: 403, DESK: 403, OWNER: 200}
DESK_UP = {ANON: 302, TEACHER: 403, DESK: 200, OWNER: 200}

# (method, url template, form data, expected status per role). Placeholders come from
# the `ids` fixture. A new route must be added here, or test_every_route_is_in_the_table
# fails.
ROUTES = [
    ("GET", "/", None, STAFF_ONLY),
    ("GET", "/staff/", None, OWNER_ONLY),
    ("GET", "/staff/new", None, OWNER_ONLY),
    ("POST", "/staff/new", {}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/staff/{other_user}", None, OWNER_ONLY),
    ("POST", "/staff/{other_user}", {}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/staff/{other_user}/password", {}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/settings/", None, OWNER_ONLY),
    ("POST", "/settings/", {"name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/login", None, {ANON: 200, TEACHER: 302, DESK: 302, OWNER: 302}),
    ("POST", "/logout", {}, {ANON: 302, TEACHER: 302, DESK: 302, OWNER: 302}),
    ("POST", "/language", {"lang": "zh_Hant"}, {ANON: 302, TEACHER: 302, DESK: 302, OWNER: 302}),
    ("GET", "/setup", None, {ANON: 404, TEACHER: 404, DESK: 404, OWNER: 404}),
    ("GET", "/settings/mail", None, OWNER_ONLY),
    ("POST", "/settings/mail", {"mail_host": "bad host"}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/mail/test", {}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/settings/fields", None, OWNER_ONLY),
    ("POST", "/settings/fields", {"label": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/fields/{field}/delete", {}, {**OWNER_ONLY, OWNER: 302}),
    # customers
    ("GET", "/customers/", None, STAFF_ONLY),
    ("GET", "/customers/new", None, DESK_UP),
    ("POST", "/customers/new", {"display_name": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/customers/{customer}", None, STAFF_ONLY),
    ("GET", "/customers/{customer}/edit", None, DESK_UP),
    (
        "POST",
        "/customers/{customer}/edit",
        {"display_name": ""},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    (
        "POST",
        "/customers/{customer}/archive",
        {"archived": "0"},
        {**DESK_UP, DESK: 302, OWNER: 302},
    ),
    ("POST", "/customers/bulk-tags", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    # duplicates: the finder, "not the same person", the merge page and its undo
    ("GET", "/customers/duplicates", None, DESK_UP),
    ("POST", "/customers/duplicates/not-same", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    (
        "GET",
        "/customers/merge?keep={customer}&other={customer}",
        None,
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("POST", "/customers/merge", {"keep": "1"}, {**DESK_UP, DESK: 400, OWNER: 400}),
    ("POST", "/customers/merges/{merge_record}/undo", {}, {**DESK_UP, DESK: 404, OWNER: 404}),
    # Invalid side forms come back as their own page with the errors (422).
    ("POST", "/customers/{customer}/family", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    (
        "POST",
        "/customers/{customer}/family/{family}/delete",
        {},
        {**DESK_UP, DESK: 302, OWNER: 302},
    ),
    ("POST", "/customers/{customer}/dates", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("POST", "/customers/{customer}/dates/{date}/delete", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/customers/{customer}/tags", {"name": ""}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/customers/{customer}/tags/{tag}/remove", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/customers/{customer}/tags/suggest?name=V", None, DESK_UP),
    ("GET", "/customers/{customer}/forms/{panel}", None, DESK_UP),
    ("GET", "/customers/{customer}/forms/alert", None, STAFF_ONLY),
    # timeline: every staff member writes notes and alerts; only the author or owner edits
    (
        "POST",
        "/customers/{customer}/entries",
        {"kind": "note", "body": "hi"},
        {**STAFF_ONLY, TEACHER: 302, DESK: 302, OWNER: 302},
    ),
    ("GET", "/customers/{customer}/entries", None, STAFF_ONLY),
    (
        "POST",
        "/customers/{customer}/alerts",
        {},
        {**STAFF_ONLY, TEACHER: 422, DESK: 422, OWNER: 422},
    ),
    ("GET", "/entries/{entry}", None, {ANON: 302, TEACHER: 302, DESK: 302, OWNER: 302}),
    ("GET", "/entries/{entry}/edit", None, {ANON: 302, TEACHER: 403, DESK: 403, OWNER: 200}),
    (
        "POST",
        "/entries/{entry}/edit",
        {"body": ""},
        {ANON: 302, TEACHER: 403, DESK: 403, OWNER: 422},
    ),
    ("GET", "/entries/{entry}/revisions", None, STAFF_ONLY),
    (
        "POST",
        "/entries/{entry}/pin",
        {"pinned": "1"},
        {**STAFF_ONLY, TEACHER: 302, DESK: 302, OWNER: 302},
    ),
    ("POST", "/entries/{alert}/resolve", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/feed", None, STAFF_ONLY),
    # segments and search
    ("GET", "/segments/", None, STAFF_ONLY),
    ("POST", "/segments/", {"name": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/segments/{segment}/edit", None, DESK_UP),
    ("POST", "/segments/{segment}/edit", {"name": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/segments/{segment}/delete", None, DESK_UP),
    ("POST", "/segments/{segment}/delete", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/search?q=王", None, STAFF_ONLY),
    # campaigns and labels (front desk and owner only), unsubscribe (public)
    ("GET", "/campaigns/", None, DESK_UP),
    ("GET", "/campaigns/new?q=tag:VIP", None, DESK_UP),
    (
        "POST",
        "/campaigns/new",
        {"audience": "tag:VIP", "subject": ""},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("GET", "/campaigns/{campaign}", None, DESK_UP),
    ("GET", "/campaigns/{campaign}/review", None, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/campaigns/{campaign}/edit", None, DESK_UP),
    ("POST", "/campaigns/{campaign}/edit", {"subject": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/campaigns/{campaign}/progress", None, {**DESK_UP, DESK: 286, OWNER: 286}),
    ("POST", "/campaigns/{campaign}/test", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/campaigns/{campaign}/send", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/campaigns/{campaign}/pause", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/campaigns/{campaign}/resume", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/campaigns/{campaign}/cancel", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    (
        "POST",
        "/campaigns/{campaign}/channels/{channel}/resume",
        {},
        {**DESK_UP, DESK: 302, OWNER: 302},
    ),
    (
        "POST",
        "/campaigns/{campaign}/channels/{channel}/retry",
        {},
        {**DESK_UP, DESK: 302, OWNER: 302},
    ),
    (
        "POST",
        "/campaigns/{campaign}/deliveries/{delivery}/{decision}",
        {},
        {**DESK_UP, DESK: 302, OWNER: 302},
    ),
    ("GET", "/labels?q=tag:VIP", None, DESK_UP),
    # tags
    ("GET", "/tags/", None, DESK_UP),
    ("POST", "/tags/", {"new-name": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("POST", "/tags/{tag}/rename", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/tags/{tag}/colour", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/tags/{tag}/merge", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/tags/merges/{merge}/undo", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/tags/{tag}/delete", None, DESK_UP),
    ("POST", "/tags/{tag}/delete", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    # purchases (front desk and owner), products and reports (owner)
    (
        "POST",
        "/customers/{customer}/purchases",
        {"purchase-product": ""},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("GET", "/purchases/{purchase}/edit", None, DESK_UP),
    (
        "POST",
        "/purchases/{purchase}/edit",
        {"purchase-product": ""},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("POST", "/purchases/{purchase}/delete", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/settings/products", None, OWNER_ONLY),
    ("POST", "/settings/products", {"new-name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/settings/products/{product}", None, OWNER_ONLY),
    ("POST", "/settings/products/{product}", {"product-name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/imports/purchases", None, DESK_UP),
    ("POST", "/imports/purchases", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("POST", "/imports/purchases/{token}", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/imports/stays", None, DESK_UP),
    ("POST", "/imports/stays", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("POST", "/imports/stays/{token}", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    # reports (owner)
    ("GET", "/reports", None, OWNER_ONLY),
    ("GET", "/reports?report=history&product=*", None, OWNER_ONLY),
    ("GET", "/reports?report=repurchase&min_price=1&format=csv", None, OWNER_ONLY),
    ("GET", "/reports?report=stays&year=2025", None, OWNER_ONLY),
    ("GET", "/reports?report=attendance&month=2025-01", None, OWNER_ONLY),
    # stays (front desk and owner), rooms (owner)
    (
        "POST",
        "/customers/{customer}/stays",
        {"stay-check_in": ""},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("GET", "/stays/{stay}/edit", None, DESK_UP),
    ("POST", "/stays/{stay}/edit", {"stay-check_in": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("POST", "/stays/{stay}/check-in", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/stays/{stay}/check-out", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/stays/{stay}/delete", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/stays/{stay}", None, DESK_UP),
    ("POST", "/stays/{stay}/extend", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/stays/{stay}/move", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/bookings/new?room_id={room}&check_in=2026-03-01&check_out=2026-03-02", None, DESK_UP),
    ("POST", "/bookings/new", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/bookings/guests?q=A", None, DESK_UP),
    ("GET", "/settings/rooms", None, OWNER_ONLY),
    ("POST", "/settings/rooms", {"new-name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/rooms/{room}", {"room1-name": "A"}, {**OWNER_ONLY, OWNER: 302}),
    # booking money: rates (owner), a stay's money, quote, cancel, no-show, late deposits
    ("GET", "/settings/rates", None, OWNER_ONLY),
    ("POST", "/settings/rates/rooms/{room}", {}, {**OWNER_ONLY, OWNER: 302}),
    ("POST", "/settings/rates/holidays", {}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/rates/holidays/{holiday}/delete", {}, {**OWNER_ONLY, OWNER: 302}),
    ("POST", "/settings/rates/terms", {"terms-deposit_percent": "101"}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/rates/refunds", {}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/stays/quote?room_id={room}", None, DESK_UP),
    ("GET", "/stays/{stay}/money", None, DESK_UP),
    ("POST", "/stays/{stay}/payments", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("POST", "/stays/{stay}/cancel", {}, DESK_UP),
    ("POST", "/stays/{stay}/no-show", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/stays/{stay}/remind", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/stays/{stay}/release", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    # the room calendar and closures (front desk and owner), its iCal addresses (owner)
    ("GET", "/calendar", None, DESK_UP),
    ("GET", "/calendar?start=2026-02-30", None, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/calendar/rooms/{room}", None, DESK_UP),
    ("POST", "/calendar/closures", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("POST", "/calendar/closures/{room_block}/reopen", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/calendar/rooms/{room}/export", {}, {**OWNER_ONLY, OWNER: 302}),
    ("POST", "/calendar/rooms/{room}/feeds", {}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/calendar/feeds/{room_feed}/delete", {}, {**OWNER_ONLY, OWNER: 302}),
    # enquiries (front desk and owner), the lost reasons (owner)
    ("GET", "/enquiries", None, DESK_UP),
    ("GET", "/enquiries/new", None, DESK_UP),
    ("POST", "/enquiries/new", {"name": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/enquiries/{enquiry}", None, DESK_UP),
    ("POST", "/enquiries/{enquiry}/edit", {"name": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    (
        "POST",
        "/enquiries/{enquiry}/stage",
        {"stage-stage": "lost"},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("POST", "/enquiries/{enquiry}/hot", {"hot": "y"}, {**DESK_UP, DESK: 302, OWNER: 302}),
    (
        "POST",
        "/enquiries/{enquiry}/contact",
        {"contact-channel": "x"},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("POST", "/enquiries/{enquiry}/enrol", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/enquiries/reasons", None, OWNER_ONLY),
    ("POST", "/enquiries/rhythm", {"rhythm-quiet_days": "0"}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/enquiries/reasons", {"name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/enquiries/reasons/{lost_reason}/remove", {}, {**OWNER_ONLY, OWNER: 302}),
    ("GET", "/ical/{token}.ics", None, {ANON: 404, TEACHER: 404, DESK: 404, OWNER: 404}),
    (
        "POST",
        "/customers/{customer}/enrolments",
        {"enrolment-starts_on": ""},
        {**DESK_UP, DESK: 422, OWNER: 422},
    ),
    ("POST", "/enrolments/{enrolment}/delete", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    # attendance on Today (a teacher: only the children of their own classes)
    ("POST", "/today/{customer}/arrive", {}, {**STAFF_ONLY, TEACHER: 403, DESK: 302, OWNER: 302}),
    ("POST", "/today/{customer}/pickup", {}, {**STAFF_ONLY, TEACHER: 403, DESK: 302, OWNER: 302}),
    ("POST", "/today/{customer}/absent", {}, {**STAFF_ONLY, TEACHER: 403, DESK: 302, OWNER: 302}),
    ("POST", "/today/{customer}/undo", {}, {**STAFF_ONLY, TEACHER: 403, DESK: 302, OWNER: 302}),
    # reminders (front desk and owner), rules and groups (owner), today (everyone)
    ("GET", "/reminders/", None, DESK_UP),
    ("GET", "/reminders/?rule={rule}", None, DESK_UP),
    ("POST", "/reminders/run", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/reminders/{reminder}/done", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/reminders/{reminder}/reopen", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/reminders/{reminder}/snooze", {"days": "1"}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/reminders/{reminder}/note", {"body": "Called"}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/customers/{customer}/reminders", {"text": ""}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/customers/{customer}/forms/reminder", None, DESK_UP),
    ("GET", "/settings/reminders", None, OWNER_ONLY),
    ("GET", "/settings/reminders/new", None, OWNER_ONLY),
    ("POST", "/settings/reminders/new", {"name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/settings/reminders/{rule}/edit", None, OWNER_ONLY),
    ("POST", "/settings/reminders/{rule}/edit", {"name": ""}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/reminders/{rule}/delete", {}, {**OWNER_ONLY, OWNER: 302}),
    ("GET", "/settings/groups", None, OWNER_ONLY),
    ("POST", "/settings/groups", {"source": "nonsense"}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/today", None, STAFF_ONLY),
    ("GET", "/today/{customer}", None, STAFF_ONLY),
    ("GET", "/today/stays?list=in_house", None, STAFF_ONLY),
    # privacy, exports and the audit log: owner only
    ("GET", "/customers/{customer}/privacy", None, OWNER_ONLY),
    ("POST", "/customers/{customer}/consent", {"purpose": "x"}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/customers/{customer}/data.json", None, OWNER_ONLY),
    ("GET", "/customers/{customer}/data", None, OWNER_ONLY),
    ("POST", "/customers/{customer}/erase", {"confirm_name": "no"}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/customers/export", None, OWNER_ONLY),
    ("GET", "/audit", None, OWNER_ONLY),
    # imports: front desk and owner
    ("GET", "/imports/", None, DESK_UP),
    ("POST", "/imports/", {}, {**DESK_UP, DESK: 422, OWNER: 422}),
    ("GET", "/imports/template.{kind}", None, DESK_UP),
    ("GET", "/imports/{import_batch}", None, DESK_UP),
    ("POST", "/imports/{import_batch}", {"mode": "update"}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("POST", "/imports/{import_batch}/rows/{row}", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    (
        "POST",
        "/imports/{import_batch}/header",
        {"header_row": "0"},
        {**DESK_UP, DESK: 302, OWNER: 302},
    ),
    (
        "POST",
        "/imports/{import_batch}/rows/{row}/same",
        {"choice": "keep"},
        {**DESK_UP, DESK: 302, OWNER: 302},
    ),
    ("POST", "/imports/{import_batch}/run", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    ("GET", "/imports/{import_batch}/progress", None, DESK_UP),
    ("POST", "/imports/{import_batch}/undo", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    # SMS and LINE: the owner sets them up; the front desk links families to LINE
    ("GET", "/settings/synonyms", None, OWNER_ONLY),
    ("POST", "/settings/synonyms", {"synonyms": "花生"}, {**OWNER_ONLY, OWNER: 422}),
    ("GET", "/settings/channels", None, OWNER_ONLY),
    ("POST", "/settings/channels", {"sms_part_price": "x"}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/channels/test-sms", {}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/settings/channels/test-line", {}, {**OWNER_ONLY, OWNER: 422}),
    ("POST", "/customers/{customer}/line-code", {}, DESK_UP),
    ("POST", "/customers/line-links/{line_link}/delete", {}, {**DESK_UP, DESK: 302, OWNER: 302}),
    # what providers call: signed (LINE) or at a secret address (SMS receipts)
    ("POST", "/hooks/line", {}, {ANON: 400, TEACHER: 400, DESK: 400, OWNER: 400}),
    (
        "GET",
        "/hooks/sms/receipt/wrong/wrong",
        None,
        {ANON: 404, TEACHER: 404, DESK: 404, OWNER: 404},
    ),
]

PUBLIC_ENDPOINTS = {
    "static",
    "campaigns.unsubscribe",
    "auth.login",
    "auth.logout",
    "auth.setup",
    "auth.language",
    "main.healthz",
    "webhooks.line_webhook",
    "webhooks.sms_receipt",
}


def merge_record():
    from app.extensions import db
    from app.models import TagMerge

    record = TagMerge(source_name="舊標籤", source_colour="blue", had_source=[], gained_target=[])
    db.session.add(record)
    db.session.commit()
    return record


@pytest.fixture
def ids(app):
    """One of everything. An owner exists (so /setup is gone) and wrote the entry."""
    from datetime import date

    from app.extensions import db
    from app.models import (
        Campaign,
        CustomField,
        Delivery,
        ImportBatch,
        Reminder,
        ReminderRule,
        Segment,
    )
    from app.services.customers import add_family_member, add_important_date
    from tests.factories import make_alert, make_customer, make_entry, make_tag, tag_customer

    first_owner = make_user("owner", email="first-owner@example.com")
    customer = make_customer("王小明")
    tag = make_tag("VIP")
    tag_customer(customer, tag)
    family = add_family_member(db.session, customer, {"name": "王媽媽"})
    when = add_important_date(db.session, customer, "入學日", date(2025, 9, 1))
    field = CustomField(key="teachers_words", label="老師的話")
    db.session.add(field)
    segment = Segment(name="VIPs", expression="tag:VIP")
    db.session.add(segment)
    campaign = Campaign(
        subject="Hi {{ nickname }}", body="{{ greeting }}", audience="tag:VIP", status="draft"
    )
    db.session.add(campaign)
    db.session.flush()
    delivery = Delivery(
        campaign_id=campaign.id,
        customer_id=customer.id,
        address="x@example.com",
        status="uncertain",
    )
    db.session.add(delivery)
    rule = ReminderRule(name="VIP calls", kind="no_contact", days=15, tag_id=tag.id)
    db.session.add(rule)
    reminder = Reminder(customer_id=customer.id, text="Call", due_date=date(2026, 1, 1))
    db.session.add(reminder)
    batch = ImportBatch(filename="list.csv", kind="csv", encoding="utf-8-sig", total_rows=1,
                        mapping={"0": "display_name"})  # fmt: skip
    db.session.add(batch)
    db.session.commit()
    from app.services import purchases

    product = purchases.save_product(db.session, None, name="普洱茶", price=1200, points=30)
    purchase = purchases.add_purchase(
        db.session, customer, product=product, day=date(2026, 1, 2), quantity=1,
        today=date(2026, 11, 24),
    )  # fmt: skip
    db.session.commit()
    from app.services import stays

    room = stays.save_room(db.session, None, "A")
    stay = stays.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": date(2026, 1, 2), "check_out": date(2026, 1, 4),
         "status": "booked", "adults": 2},
        actor=None, today=date(2026, 11, 24),
    )  # fmt: skip
    from app.services import booking_money

    holiday = booking_money.add_holiday(db.session, date(2027, 2, 6), "春節")
    from app.services import attendance

    enrolment = attendance.enrol(db.session, customer, group="大班", starts_on=date(2026, 9, 1))
    db.session.commit()
    from flask import current_app

    from app.services.importer import file_path
    from app.tasks import imports_folder

    file_path(imports_folder(current_app), batch).write_bytes("姓名\n王大明\n".encode())
    from app.clock import utcnow
    from app.models import LineLink

    line_link = LineLink(customer_id=customer.id, user_id="U" + "0" * 32, linked_at=utcnow())
    db.session.add(line_link)
    db.session.commit()
    from app.models import RoomBlock, RoomFeed

    room_feed = RoomFeed(room_id=room.id, name="Booking.com", url="http://127.0.0.1:9/x.ics")
    room_block = RoomBlock(room_id=room.id, starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 3))
    db.session.add_all([room_feed, room_block])
    db.session.commit()
    from app.models import Enquiry, LostReason

    enquiry = Enquiry(name="林小姐", phone="0912")
    lost_reason = LostReason(name="價格")
    db.session.add_all([enquiry, lost_reason])
    db.session.commit()
    return {
        "enquiry": enquiry.id,
        "lost_reason": lost_reason.id,
        "line_link": line_link.id,
        "room_block": room_block.id,
        "room_feed": room_feed.id,
        "import_batch": batch.id,
        "product": product.id,
        "room": room.id,
        "holiday": holiday.id,
        "stay": stay.id,
        "enrolment": enrolment.id,
        "token": "no-such-upload-token",
        "purchase": purchase.id,
        "kind": "xlsx",
        "row": 2,
        "rule": rule.id,
        "reminder": reminder.id,
        "other_user": make_user("teacher", email="managed@example.com").id,
        "customer": customer.id,
        "tag": tag.id,
        "merge": merge_record().id,
        "merge_record": 999999,
        "family": family.id,
        "date": when.id,
        "field": field.id,
        "segment": segment.id,
        "panel": "family",
        "campaign": campaign.id,
        "delivery": delivery.id,
        "decision": "resend",
        "channel": "email",
        "entry": make_entry(customer, author=first_owner, body="owner's note").id,
        "alert": make_alert(customer, author=first_owner).id,
    }


@pytest.mark.parametrize("role", [ANON, TEACHER, DESK, OWNER])
@pytest.mark.parametrize(
    ("method", "url", "data", "expected"), ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES]
)
def test_route_status_per_role(app, ids, role, method, url, data, expected):
    client = app.test_client()
    if role != ANON:
        login(client, make_user(role))
    response = client.open(url.format(**ids), method=method, data=data)
    assert response.status_code == expected[role], response.get_data(as_text=True)[:300]


def _shape(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "*", path.split("?")[0])


def test_every_route_declares_roles_and_is_in_the_table(app):
    tested = {(method, _shape(url)) for method, url, _data, _exp in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles") or rule.endpoint == "static", (
            f"{rule.endpoint} has no role decorator (roles_required/owner_required/public)"
        )
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, _shape(rule.rule)) not in tested:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes missing from ROUTES: {missing}"


def test_teacher_gets_styled_403_not_just_hidden_menu(app, owner, teacher):
    client = app.test_client()
    login(client, teacher)
    response = client.get("/settings/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Not allowed" in page and "<html" in page


def test_htmx_403_is_swapped_into_messages(app, owner, teacher):
    client = app.test_client()
    login(client, teacher)
    response = client.get("/staff/", headers={"HX-Request": "true", "HX-Target": "main"})
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in response.get_data(as_text=True)


def test_htmx_request_when_signed_out_redirects_whole_page(client):
    make_user("owner")
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")
