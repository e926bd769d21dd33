"""Purchases: entered on the customer page (any past date), edited and deleted with an audit
trail; the catalogue in Settings; a sheet of past purchases (the reports are in reports/)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.blueprints import history_import
from app.blueprints.history_import import HistoryPage, history_error
from app.blueprints.purchases import bp
from app.blueprints.purchases.forms import ProductForm, PurchaseForm
from app.blueprints.shared import form_panel_with_errors
from app.extensions import db
from app.models import Customer, Product, Purchase
from app.security import audit, desk_required, owner_required
from app.services import purchases as service
from app.services.purchases import PurchaseError
from app.services.shop import shop_context


def error_message(error: PurchaseError) -> str:
    return {
        "product-name": _("Enter the product's name."),
        "product-name-long": _("A product name has at most 120 characters."),
        "product-exists": _("There is already a product called %(name)s.", name=error.detail),
        "price": _("Enter a price from 0 to 100,000,000."),
        "points": _("Enter points from 0 to 100,000,000."),
        "quantity": _("From 1 to 100,000."),
        "date": _("Enter a real date (year-month-day), e.g. 2018-02-28."),
        "date-range": _("Enter a date from 1900 up to today."),
        "note-long": _("A note has at most 500 characters."),
    }.get(error.code, _("Check the values and try again."))


def resolve_product(text: str) -> tuple[Product | None, str | None]:
    """The product meant by what was typed: its exact name, else the only one whose name
    contains it (as I-CRM completes a keyword). Else (None, why)."""
    product = service.product_by_name(db.session, text)
    if product is not None:
        return product, None
    found = service.find_products(db.session, text, limit=6)
    if len(found) == 1:
        return found[0], None
    if not found:
        return None, _("No product on sale matches “%(text)s”. Add it under Settings → Products.",
                       text=text)  # fmt: skip
    names = "、".join(p.name for p in found[:5])
    return None, _("Several products match: %(names)s. Type more of the name.", names=names)


def _customer(customer_id: int) -> Customer:
    return db.get_or_404(Customer, customer_id)


def _save(form: PurchaseForm, customer: Customer, purchase: Purchase | None):
    """Adds or updates from a validated form; on a problem, puts it beside its field."""
    product, problem = resolve_product(form.product.data)
    if product is None:
        form.product.errors = [problem]
        return None
    context = shop_context(db.session)
    try:
        if purchase is None:
            purchase = service.add_purchase(
                db.session, customer, product=product, day=form.day.data,
                quantity=form.quantity.data, unit_price=form.unit_price.data,
                note=form.note.data, actor=current_user, today=context.today, zone=context.zone,
            )  # fmt: skip
        else:
            service.edit_purchase(
                db.session, purchase, product=product, day=form.day.data,
                quantity=form.quantity.data,
                unit_price=purchase.unit_price if form.unit_price.data is None
                else form.unit_price.data,
                note=form.note.data, today=context.today, zone=context.zone,
            )  # fmt: skip
    except PurchaseError as error:
        db.session.rollback()
        field = {"date": "day", "date-range": "day", "quantity": "quantity",
                 "price": "unit_price", "note-long": "note"}.get(error.code, "product")  # fmt: skip
        getattr(form, field).errors = [error_message(error)]
        return None
    return purchase


@bp.route("/customers/<int:customer_id>/purchases", methods=["POST"])
@desk_required
def add(customer_id: int):

    customer = _customer(customer_id)
    form = PurchaseForm(prefix="purchase")
    if form.validate():
        purchase = _save(form, customer, None)
        if purchase is not None:
            audit("purchase.add", "customer", customer.id, _describe(purchase))
            db.session.commit()
            flash(_("Purchase added: %(what)s.", what=_describe(purchase)), "success")
            return redirect(url_for("customers.show", customer_id=customer.id) + "#purchases")
    return form_panel_with_errors(customer, "purchase", form, _("Add a purchase"))


def _describe(purchase: Purchase) -> str:
    return (
        f"{purchase.purchased_on.isoformat()} {purchase.product.name} × {purchase.quantity} "
        f"@ NT${purchase.unit_price:,}"
    )


@bp.route("/purchases/<int:purchase_id>/edit", methods=["GET", "POST"])
@desk_required
def edit(purchase_id: int):
    purchase = db.get_or_404(Purchase, purchase_id)
    customer = _customer(purchase.customer_id)
    form = PurchaseForm(prefix="purchase")
    status = 200
    if request.method == "GET":
        form.product.data = purchase.product.name
        form.day.data = purchase.purchased_on
        form.quantity.data = purchase.quantity
        form.unit_price.data = purchase.unit_price
        form.note.data = purchase.note
    elif form.validate():
        before = _describe(purchase)
        if _save(form, customer, purchase) is not None:
            audit("purchase.edit", "customer", customer.id, f"{before} -> {_describe(purchase)}")
            db.session.commit()
            flash(_("Purchase saved."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id) + "#purchases")
        status = 422
    else:
        status = 422
    return (
        render_template("purchases/edit.html", form=form, purchase=purchase, customer=customer),
        status,
    )


@bp.route("/purchases/<int:purchase_id>/delete", methods=["POST"])
@desk_required
def delete(purchase_id: int):
    purchase = db.get_or_404(Purchase, purchase_id)
    customer_id = purchase.customer_id
    what = _describe(purchase)
    service.delete_purchase(db.session, purchase)
    audit("purchase.delete", "customer", customer_id, what)
    db.session.commit()
    flash(_("Purchase deleted: %(what)s.", what=what), "success")
    return redirect(url_for("customers.show", customer_id=customer_id) + "#purchases")


# ---- the catalogue ----------------------------------------------------------------------------


@bp.route("/settings/products", methods=["GET", "POST"])
@owner_required
def products():
    form = ProductForm(prefix="new")
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                product = service.save_product(
                    db.session, None, name=form.name.data, price=form.price.data,
                    points=form.points.data, active=form.active.data,
                )  # fmt: skip
            except PurchaseError as error:
                db.session.rollback()
                form.name.errors = [error_message(error)]
            else:
                audit("product.add", "product", product.id, product.name)
                db.session.commit()
                flash(_("Product %(name)s added.", name=product.name), "success")
                return redirect(url_for("purchases.products"))
    counts = service.purchase_counts(db.session)
    return (
        render_template(
            "purchases/products.html",
            form=form,
            products=service.products(db.session),
            counts=counts,
        ),
        status,
    )


@bp.route("/settings/products/<int:product_id>", methods=["GET", "POST"])
@owner_required
def product(product_id: int):
    item = db.get_or_404(Product, product_id)
    form = ProductForm(prefix="product", obj=item if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                service.save_product(
                    db.session, item, name=form.name.data, price=form.price.data,
                    points=form.points.data, active=form.active.data,
                )  # fmt: skip
            except PurchaseError as error:
                db.session.rollback()
                form.name.errors = [error_message(error)]
            else:
                audit("product.edit", "product", item.id, item.name)
                db.session.commit()
                flash(_("Product %(name)s saved.", name=item.name), "success")
                return redirect(url_for("purchases.products"))
    return render_template("purchases/product.html", form=form, product=item), status


# ---- a purchase history sheet ---------------------------------------------------------------


def _history_page() -> HistoryPage:
    links = []
    if current_user.role.value == "owner":
        links.append((url_for("purchases.products"), _("Products")))
    return HistoryPage(
        spec=service.PURCHASE_HISTORY,
        endpoint="purchases.history",
        confirm_endpoint="purchases.history_run",
        audit_action="purchase.import",
        title=_("Import purchase history"),
        intro=_(
            "One purchase per row, the column names in the first row: member number (or "
            "name), date, product, quantity, unit price, note. Products must be in the "
            "catalogue. Every line is checked first; nothing is saved until all are right."
        ),
        missing=_(
            "The first row needs the columns: a member number or name, date, "
            "product (quantity, unit price and note are optional)."
        ),
        describe=history_error,
        ready=lambda num: ngettext(
            "%(num)d purchase is ready to import.", "%(num)d purchases are ready to import.", num
        ),
        button=lambda num: ngettext("Import %(num)d purchase", "Import %(num)d purchases", num),
        imported=lambda num: _("%(num)d purchases imported.", num=num),
        columns=[
            (_("Date"), "date", lambda line: line.values["day"]),
            (_("Product"), "text", lambda line: line.values["product"].name),
            (_("Quantity"), "number", lambda line: line.values["quantity"]),
            (_("Unit price (NT$)"), "money", lambda line: line.values["unit_price"]),
        ],
        links=links,
    )


@bp.route("/imports/purchases", methods=["GET", "POST"])
@desk_required
def history():
    """Upload a sheet of past purchases; every line is checked before anything is saved."""
    return history_import.upload(_history_page())


@bp.route("/imports/purchases/<token>", methods=["POST"])
@desk_required
def history_run(token: str):
    return history_import.confirm(_history_page(), token)
