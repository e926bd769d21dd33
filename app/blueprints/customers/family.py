"""A customer's family members and important dates, added and removed from their page."""

from flask import (
    abort,
    flash,
    redirect,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.customers import bp
from app.blueprints.customers.forms import (
    FamilyMemberForm,
    ImportantDateForm,
)
from app.blueprints.customers.routes import _customer_or_404, _errors_text
from app.blueprints.shared import form_panel_with_errors
from app.extensions import db
from app.security import client_ip, desk_required
from app.services import customers as customer_service


@bp.route("/<int:customer_id>/family", methods=["POST"])
@desk_required
def add_family(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = FamilyMemberForm(prefix="family")
    if form.validate():
        customer_service.add_family_member(db.session, customer, form.data)
        db.session.commit()
        flash(_("Family member added."), "success")
    else:
        flash(_("Family member not added: %(errors)s", errors=_errors_text(form)), "error")
        return form_panel_with_errors(customer, "family", form, _("Add a family member"))
    return redirect(url_for("customers.show", customer_id=customer.id) + "#family")


@bp.route("/<int:customer_id>/family/<int:member_id>/delete", methods=["POST"])
@desk_required
def remove_family(customer_id: int, member_id: int):
    if not customer_service.remove_family_member(
        db.session, customer_id, member_id, actor_id=current_user.id, ip=client_ip()
    ):
        abort(404)
    db.session.commit()
    flash(_("Family member removed."), "info")
    return redirect(url_for("customers.show", customer_id=customer_id) + "#family")


@bp.route("/<int:customer_id>/dates", methods=["POST"])
@desk_required
def add_date(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = ImportantDateForm(prefix="date")
    if form.validate():
        customer_service.add_important_date(db.session, customer, form.label.data, form.date.data)
        db.session.commit()
        flash(_("Date added."), "success")
    else:
        flash(_("Date not added: %(errors)s", errors=_errors_text(form)), "error")
        return form_panel_with_errors(customer, "date", form, _("Add a date"))
    return redirect(url_for("customers.show", customer_id=customer.id) + "#dates")


@bp.route("/<int:customer_id>/dates/<int:date_id>/delete", methods=["POST"])
@desk_required
def remove_date(customer_id: int, date_id: int):
    if not customer_service.remove_important_date(
        db.session, customer_id, date_id, actor_id=current_user.id, ip=client_ip()
    ):
        abort(404)
    db.session.commit()
    flash(_("Date removed."), "info")
    return redirect(url_for("customers.show", customer_id=customer_id) + "#dates")
