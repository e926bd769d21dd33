"""Tags on the customer page: an htmx component that replaces itself (stick, peel, suggest)."""

from flask import (
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.customers import bp
from app.blueprints.customers.forms import (
    TagAddForm,
)
from app.blueprints.customers.routes import _customer_or_404
from app.extensions import db
from app.htmx import is_partial
from app.models import (
    Customer,
    Tag,
)
from app.security import desk_required
from app.services import tags as tag_service

# ---- tags on a customer (htmx component that replaces itself) ---------------------------


def _tag_box(
    customer: Customer,
    *,
    message: str | None = None,
    undo_tag: Tag | None = None,
    error: str | None = None,
    status: int = 200,
):
    db.session.refresh(customer, ["tags"])
    html = render_template(
        "customers/_tag_box.html",
        customer=customer,
        tag_form=TagAddForm(formdata=None),
        tag_error=error,
        oob_message=message,
        undo_tag=undo_tag,
    )
    response = make_response(html, status)
    if error:
        response.headers["HX-Reswap"] = "outerHTML"
    return response


def _tag_page_or_box(customer: Customer, **kwargs):
    if is_partial():
        return _tag_box(customer, **kwargs)
    if kwargs.get("error"):
        flash(kwargs["error"], "error")
    elif kwargs.get("message"):
        flash(kwargs["message"], "success")
    return redirect(url_for("customers.show", customer_id=customer.id))


@bp.route("/<int:customer_id>/tags", methods=["POST"])
@desk_required
def add_tag(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = TagAddForm()
    name = (form.pick.data or form.name.data or "").strip()
    if not form.validate() or not name:
        return _tag_page_or_box(customer, error=_("Type a tag name or pick one."), status=422)
    try:
        tag, created = tag_service.get_or_create_tag(db.session, name, form.colour.data)
    except tag_service.TagError as error:
        db.session.rollback()
        message = (
            _("Type a tag name or pick one.")
            if error.code == "empty"
            else _("Enter a tag name of at most 60 characters.")
        )
        return _tag_page_or_box(customer, error=message, status=422)
    tag_service.stick(db.session, customer, tag, actor=current_user)
    db.session.commit()
    return _tag_page_or_box(customer, message=_("Tagged %(tag)s.", tag=tag.name))


@bp.route("/<int:customer_id>/tags/<int:tag_id>/remove", methods=["POST"])
@desk_required
def remove_tag(customer_id: int, tag_id: int):
    customer = _customer_or_404(customer_id)
    tag = db.get_or_404(Tag, tag_id)
    tag_service.peel(db.session, customer, tag, actor=current_user)
    db.session.commit()
    return _tag_page_or_box(customer, message=_("Removed %(tag)s.", tag=tag.name), undo_tag=tag)


@bp.route("/<int:customer_id>/tags/suggest")
@desk_required
def suggest_tags(customer_id: int):
    customer = _customer_or_404(customer_id)
    text = request.args.get("name", "")
    have = {tag.id for tag in customer.tags}
    suggestions = tag_service.suggest(db.session, text, exclude_ids=have)
    exact = any(tag.name.lower() == text.strip().lower() for tag in suggestions) or any(
        tag.name.lower() == text.strip().lower() for tag in customer.tags
    )
    return render_template(
        "customers/_tag_suggestions.html",
        customer=customer,
        suggestions=suggestions,
        text=text.strip(),
        offer_new=bool(text.strip()) and not exact,
    )
