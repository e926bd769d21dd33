"""Purchases from the customer page, the catalogue in Settings, the reports as pages and files."""

import csv
import io
from datetime import date

import sqlalchemy as sa
from openpyxl import load_workbook

from app.extensions import db
from app.models import AuditEvent, Purchase, TimelineEntry
from app.services import purchases as service
from tests.conftest import login
from tests.factories import make_customer, make_user


def _catalogue():
    for name, price, points in (
        ("普洱茶", 1200, 30),
        ("普洱茶禮盒", 3600, 90),
        ("凍頂烏龍", 800, 20),
    ):
        service.save_product(db.session, None, name=name, price=price, points=points)
    db.session.commit()


def _post(client, customer, **fields):
    data = {"purchase-day": "2024-05-01", "purchase-quantity": "1", "purchase-unit_price": "",
            "purchase-note": ""}  # fmt: skip
    data.update({f"purchase-{key}": value for key, value in fields.items()})
    return client.post(f"/customers/{customer.id}/purchases", data=data)


def test_a_past_purchase_by_keyword_shows_on_the_page_and_timeline(app, client, owner):
    _catalogue()
    desk = make_user("frontdesk")
    customer = make_customer("陳小姐")
    login(client, desk)
    assert "No purchases yet." in client.get(f"/customers/{customer.id}").get_data(as_text=True)
    response = _post(client, customer, product="禮盒", quantity="2", note="紙本補登")
    assert response.status_code == 302
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "普洱茶禮盒</strong> × 2" in page and "NT$7,200" in page
    entry = db.session.scalar(sa.select(TimelineEntry).where(TimelineEntry.kind == "purchase"))
    assert entry.created_at.date() == date(2024, 5, 1) and "紙本補登" in entry.body
    assert db.session.scalar(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "purchase.add")
    )


def test_unclear_or_bad_input_keeps_what_was_typed_and_saves_nothing(app, client):
    _catalogue()
    desk = make_user("frontdesk")
    make_user("owner")
    customer = make_customer("陳小姐")
    login(client, desk)
    cases = [
        ({"product": "普洱"}, "Several products match: 普洱茶、普洱茶禮盒"),
        ({"product": "咖啡"}, "No product on sale matches “咖啡”"),
        ({"product": "普洱茶", "quantity": "0"}, "From 1 to 100,000."),
        ({"product": "普洱茶", "quantity": "abc"}, "Enter a whole number."),
        ({"product": "普洱茶", "day": "2026-02-30"}, "Enter a real date"),
        ({"product": "普洱茶", "day": "2999-01-01"}, "Enter a date from 1900 up to today."),
        ({"product": "普洱茶", "unit_price": "-5"}, "From 0 to 100,000,000."),
    ]
    for fields, message in cases:
        response = _post(client, customer, **fields)
        text = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert message in text, (fields, text[:3000])
        assert f'value="{fields["product"]}"' in text  # what was typed stays
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Purchase)) == 0


def test_edit_and_delete_are_audited_and_a_teacher_cannot(app, client):
    _catalogue()
    owner = make_user("owner")
    customer = make_customer("陳小姐")
    tea = service.product_by_name(db.session, "普洱茶")
    purchase = service.add_purchase(
        db.session, customer, product=tea, day=date(2026, 1, 5), quantity=1, today=date.today()
    )
    db.session.commit()
    teacher = make_user("teacher")
    login(client, teacher)
    assert client.get(f"/purchases/{purchase.id}/edit").status_code == 403
    assert client.post(f"/purchases/{purchase.id}/delete").status_code == 403
    client.post("/logout")
    login(client, owner)
    response = client.post(
        f"/purchases/{purchase.id}/edit",
        data={"purchase-product": "凍頂烏龍", "purchase-day": "2026-01-06",
              "purchase-quantity": "3", "purchase-unit_price": "750", "purchase-note": ""},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(purchase)
    assert (purchase.product.name, purchase.quantity, purchase.amount) == ("凍頂烏龍", 3, 2250)
    client.post(f"/purchases/{purchase.id}/delete")
    details = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.action.like("purchase.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert details == ["purchase.edit", "purchase.delete"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Purchase)) == 0


def test_reports_on_screen_and_as_files(app, client, owner):
    _catalogue()
    chen = make_customer("陳小姐", assigned_user_id=owner.id)
    evil = make_customer('<img src=x onerror="alert(1)">')
    tea = service.product_by_name(db.session, "普洱茶")
    today = date.today()
    service.add_purchase(db.session, chen, product=tea, day=today, quantity=2, today=today)
    service.add_purchase(db.session, evil, product=tea, day=today, quantity=1, today=today)
    db.session.commit()
    login(client, owner)
    page = client.get("/reports").get_data(as_text=True)
    assert "陳小姐" in page and "2,400" in page
    assert '<img src=x onerror="alert(1)">' not in page and "&lt;img src=x" in page
    history = client.get("/reports?report=history&product=普洱*").get_data(as_text=True)
    assert "2 rows" in history
    bad = client.get("/reports?report=history&product=*&since=2026-13-01")
    assert "Enter a real date" in bad.get_data(as_text=True)
    refused = client.get("/reports?report=repurchase&min_price=abc").get_data(as_text=True)
    assert "Enter whole numbers" in refused
    data = client.get("/reports?report=repurchase&min_price=1000&format=csv").data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "Product"
    assert {row[0] for row in rows[1:]} == {"陳小姐", evil.display_name}
    xlsx = client.get("/reports?report=half_year&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Team"
    assert [owner.name, "陳小姐", chen.member_number, "普洱茶", 2, 2400] in values
    assert [f"Total: {owner.name}", None, None, None, 2, 2400] in values


def test_the_owner_keeps_the_catalogue(app, client, owner):
    login(client, owner)
    response = client.post(
        "/settings/products",
        data={"new-name": "普洱茶", "new-price": "1200", "new-points": "30", "new-active": "y"},
    )
    assert response.status_code == 302
    again = client.post(
        "/settings/products", data={"new-name": " 普洱茶 ", "new-price": "1", "new-points": "0"}
    )
    assert again.status_code == 422
    assert "There is already a product called 普洱茶." in again.get_data(as_text=True)
    huge = client.post(
        "/settings/products", data={"new-name": "金", "new-price": "9" * 30, "new-points": "0"}
    )
    assert huge.status_code == 422
    product = service.product_by_name(db.session, "普洱茶")
    client.post(
        f"/settings/products/{product.id}",
        data={"product-name": "普洱茶", "product-price": "1300", "product-points": "30"},
    )
    db.session.refresh(product)
    assert product.price == 1300 and product.active is False  # unticked: no longer on sale


def test_a_purchase_history_sheet_is_checked_whole_then_imported(app, client):
    from tests.services.test_importer import xlsx

    _catalogue()
    desk = make_user("frontdesk")
    make_user("owner")
    chen = make_customer("陳小姐", member_number="M0007")
    make_customer("林先生")
    make_customer("林先生")  # two of them: a name alone cannot say which
    login(client, desk)
    header = ["會員編號", "姓名", "日期", "產品", "數量", "單價", "備註"]
    bad = xlsx([header,
                ["M0007", "", "2024/3/5", "普洱茶", "2", "", "紙本"],
                ["", "林先生", "2024/3/6", "普洱茶", "1", "", ""],
                ["", "王太太", "2024/3/7", "咖啡", "x", "", ""],
                ["M0007", "", "2999-01-01", "普洱茶", "1", "-5", ""]])  # fmt: skip
    response = client.post(
        "/imports/purchases", data={"sheet": (io.BytesIO(bad), "history.xlsx")},
        content_type="multipart/form-data",
    )  # fmt: skip
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "3 lines need fixing; nothing was saved." in text
    assert "Several people are called 林先生" in text and "Not in the catalogue: 咖啡" in text
    assert "No one has this member number or name: 王太太" in text and "Quantity from 1: x" in text
    assert "Not a date up to today: 2999-01-01" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Purchase)) == 0
    good = xlsx([header,
                 ["M0007", "", "2024/3/5", "普洱茶", "2", "", "紙本"],
                 ["", "陳小姐", "113/3/6", "凍頂烏龍", "1", "750", ""]])  # fmt: skip
    response = client.post(
        "/imports/purchases", data={"sheet": (io.BytesIO(good), "history.xlsx")},
        content_type="multipart/form-data",
    )  # fmt: skip
    text = response.get_data(as_text=True)
    assert "2 purchases are ready to import." in text
    token = text.split("/imports/purchases/")[1].split('"')[0]
    client.post(f"/imports/purchases/{token}")
    rows = db.session.execute(
        sa.select(Purchase.purchased_on, Purchase.quantity, Purchase.unit_price)
        .where(Purchase.customer_id == chen.id)
        .order_by(Purchase.purchased_on)
    ).all()
    assert rows == [(date(2024, 3, 5), 2, 1200), (date(2024, 3, 6), 1, 750)]  # ROC 113 = 2024
    again = client.post(f"/imports/purchases/{token}", follow_redirects=True)
    assert "That upload is gone" in again.get_data(as_text=True)  # not imported twice


def test_long_reports_show_the_first_rows_and_the_files_have_all(app, client, owner, monkeypatch):
    from app.blueprints.reports import routes

    monkeypatch.setattr(routes, "SCREEN_ROWS", 1)
    _catalogue()
    tea = service.product_by_name(db.session, "普洱茶")
    for name in ("甲", "乙", "丙"):
        service.add_purchase(db.session, make_customer(name), product=tea, day=date.today(),
                             quantity=1, today=date.today())  # fmt: skip
    db.session.commit()
    login(client, owner)
    page = client.get("/reports?report=repurchase&min_price=1000").get_data(as_text=True)
    assert "Showing the first 1 rows" in page and page.count('<td><a href="/customers/') == 1
    data = client.get("/reports?report=repurchase&min_price=1000&format=csv").data
    assert len(data.decode("utf-8-sig").strip().splitlines()) == 4  # header + 3


def test_reports_speak_the_shops_own_words(app, client, owner):
    """An after-school centre selling books: no 普洱 or PV in its hints, two children of
    the same name told apart with each team's total, and "who should buy again" with no
    minimum lists every product, oldest first."""
    today = date.today()
    for name, price in (("英文繪本", 350), ("英文練習本", 120), ("數學講義", 200)):
        service.save_product(db.session, None, name=name, price=price, points=0)
    db.session.commit()
    first = make_customer("詹怡君", assigned_user_id=owner.id)
    second = make_customer("詹怡君", assigned_user_id=owner.id)
    book = service.product_by_name(db.session, "英文繪本")
    service.add_purchase(db.session, first, product=book, day=today, quantity=1, today=today)
    service.add_purchase(db.session, second, product=book, day=today, quantity=3, today=today)
    old = date(today.year - 1, 1, 1)
    notes = service.product_by_name(db.session, "數學講義")
    service.add_purchase(db.session, first, product=notes, day=old, quantity=2, today=today)
    db.session.commit()
    login(client, owner)
    page = client.get("/reports").get_data(as_text=True)
    assert first.member_number in page and second.member_number in page
    assert f"Total: {owner.name}" in page and "(2 people)" in page
    history = client.get("/reports?report=history").get_data(as_text=True)
    assert "普洱" not in history and "英文*" in history
    repurchase = client.get("/reports?report=repurchase").get_data(as_text=True)
    assert "PV" not in repurchase and "every product counts" in repurchase
    assert repurchase.index("數學講義") < repurchase.index("英文繪本")  # oldest first
    assert "3 rows" in repurchase
    rule = client.get("/settings/reminders/new").get_data(as_text=True)
    assert "only products whose name contains it" in rule and "紅酒" not in rule
