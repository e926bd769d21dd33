"""Stays: added on the guest page (past stays from the paper guest book too), edited,
checked in and out from My day, deleted with an audit trail. Rooms in Settings."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.blueprints import history_import
from app.blueprints.history_import import HistoryPage, history_error
from app.blueprints.shared import form_panel_with_errors
from app.blueprints.stays import bp
from app.blueprints.stays.forms import EnrolmentForm, RoomForm, StayForm
from app.extensions import db
from app.models import Customer, Enrolment, Room, Stay
from app.security import audit, desk_required, owner_required
from app.services import attendance
from app.services import stays as service
from app.services.shop import shop_context
from app.services.stays import StayError, life


def error_message(error: StayError) -> tuple[str, str]:
    """(field, message) for a refused stay or room."""
    return {
        "dates": ("check_in", _("Enter both dates.")),
        "date-range": ("check_in", _("Enter dates from 1900 up to five years ahead.")),
        "check-out-first": ("check_out", _("Check-out must be after check-in.")),
        "too-long": ("check_out", _("A stay is at most 366 nights.")),
        "status": ("status", _("Choose one of the options.")),
        "not-yet": ("status", _("A stay that has not begun is booked, not stayed or no-show.")),
        "text-long": ("note", _("The note or source is too long.")),
        "people": ("adults", _("At least one person stays: from 0 to 99 each.")),
        "money": ("amount", _("From 0 to 100,000,000.")),
        "room": ("room_id", _("Choose one of the options.")),
        "room-name": ("name", _("Enter the room's name.")),
        "room-name-long": ("name", _("A room name has at most 60 characters.")),
        "room-exists": ("name", _("There is already a room called %(name)s.", name=error.detail)),
        "capacity": ("capacity", _("From 1 to 99.")),
        **_booking_messages(error),
    }.get(error.code, ("check_in", _("Check the values and try again.")))


def _booking_messages(error: StayError) -> dict[str, tuple[str, str]]:
    return {
        "clash": (
            "room_id",
            _(
                "That room is already booked for those nights: %(booking)s. Choose other dates "
                "or another room.",
                booking=error.detail,
            ),
        ),  # fmt: skip
        "ages": ("children_ages", _("Enter the children's ages as whole numbers, e.g. 6, 9.")),
        "occasion": ("occasion", _("Choose one of the options.")),
        "occasion-label": ("occasion_label", _("Say what the occasion is.")),
        "guest": ("guest_name", _("Choose a guest, or type the new guest's name.")),
        "guest-contact": ("guest_phone", _("Enter the new guest's phone or email.")),
        "room-needed": ("room_id", _("Choose a room.")),
        "past": ("check_in", _("A new booking starts today or later.")),
        "not-active": ("room_id", _("This stay is cancelled or over.")),
        "check-in-late": ("room_id", _("The stay's nights are over: it cannot be checked in.")),
        "not-in-house": ("room_id", _("Only a guest in house can check out.")),
        "moved-on": ("room_id", _("The stay goes on in another room: use that part of it.")),
        "move-day": ("from_day", _("Choose one of the stay's nights.")),
    }


def _describe(stay: Stay) -> str:
    room = stay.room.name if stay.room else "-"
    return f"{stay.check_in} → {stay.check_out} {room} {stay.status} NT${stay.amount:,}"


def _save(form: StayForm, customer: Customer, stay: Stay | None) -> Stay | None:
    context = shop_context(db.session)
    try:
        return service.save_stay(
            db.session, customer, stay, form.values(), actor=current_user,
            today=context.today, zone=context.zone,
        )  # fmt: skip
    except StayError as error:
        db.session.rollback()
        field, message = error_message(error)
        getattr(form, field).errors = [message]
        return None


def _back(customer_id: int):
    return redirect(url_for("customers.show", customer_id=customer_id) + "#stays")


@bp.route("/customers/<int:customer_id>/stays", methods=["POST"])
@desk_required
def add(customer_id: int):

    customer = db.get_or_404(Customer, customer_id)
    form = StayForm(prefix="stay")
    if form.validate():
        stay = _save(form, customer, None)
        if stay is not None:
            audit("stay.add", "customer", customer.id, _describe(stay))
            db.session.commit()
            flash(_("Stay saved."), "success")
            return _back(customer.id)
    return form_panel_with_errors(customer, "stay", form, _("Add a stay"))


@bp.route("/stays/<int:stay_id>/edit", methods=["GET", "POST"])
@desk_required
def edit(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    customer = db.get_or_404(Customer, stay.customer_id)
    form = StayForm(prefix="stay", obj=stay if request.method == "GET" else None)
    if request.method == "GET":
        form.room_id.data = str(stay.room_id or "")
    status = 200
    if request.method == "POST":
        status = 422
        before = _describe(stay)
        if form.validate() and _save(form, customer, stay) is not None:
            audit("stay.edit", "customer", customer.id, f"{before} -> {_describe(stay)}")
            db.session.commit()
            flash(_("Stay saved."), "success")
            return _back(customer.id)
    return render_template("stays/edit.html", form=form, stay=stay, customer=customer), status


@bp.route("/stays/<int:stay_id>/delete", methods=["POST"])
@desk_required
def delete(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    customer = db.get_or_404(Customer, stay.customer_id)
    what = _describe(stay)
    service.delete_stay(db.session, stay, customer)
    audit("stay.delete", "customer", customer.id, what)
    db.session.commit()
    flash(_("Stay deleted."), "success")
    return _back(customer.id)


def _after_action(stay: Stay):
    """Back where the button was: the stay's page, or My day."""
    if request.form.get("back") == "stay":
        return redirect(url_for("stays.show", stay_id=stay.id))
    return redirect(url_for("main.home") + "#arrivals-heading")


@bp.route("/stays/<int:stay_id>/check-in", methods=["POST"])
@desk_required
def check_in(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    customer = db.get_or_404(Customer, stay.customer_id)
    context = shop_context(db.session)
    try:
        life.check_in(db.session, stay, customer, actor=current_user, today=context.today,
                      zone=context.zone)  # fmt: skip
    except StayError as error:
        db.session.rollback()
        flash(error_message(error)[1], "error")
    else:
        audit("stay.check_in", "customer", customer.id, _describe(stay))
        db.session.commit()
        flash(_("%(name)s checked in.", name=customer.display_name), "success")
    return _after_action(stay)


@bp.route("/stays/<int:stay_id>/check-out", methods=["POST"])
@desk_required
def check_out(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    customer = db.get_or_404(Customer, stay.customer_id)
    context = shop_context(db.session)
    try:
        life.check_out(db.session, stay, customer, actor=current_user, today=context.today,
                       zone=context.zone)  # fmt: skip
    except StayError as error:
        db.session.rollback()
        flash(error_message(error)[1], "error")
    else:
        audit("stay.check_out", "customer", customer.id, _describe(stay))
        db.session.commit()
        flash(_("%(name)s checked out.", name=customer.display_name), "success")
    return _after_action(stay)


@bp.route("/settings/rooms", methods=["GET", "POST"])
@owner_required
def rooms():
    form = RoomForm(prefix="new")
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                room = service.save_room(db.session, None, form.name.data, form.active.data,
                                         form.capacity.data)  # fmt: skip
            except StayError as error:
                db.session.rollback()
                form.name.errors = [error_message(error)[1]]
            else:
                audit("room.add", "room", room.id, room.name)
                db.session.commit()
                flash(_("Room %(name)s added.", name=room.name), "success")
                return redirect(url_for("stays.rooms"))
    return render_template("stays/rooms.html", form=form, rooms=service.rooms(db.session)), status


@bp.route("/settings/rooms/<int:room_id>", methods=["POST"])
@owner_required
def room(room_id: int):
    item = db.get_or_404(Room, room_id)
    form = RoomForm(prefix=f"room{item.id}")
    if form.validate():
        try:
            service.save_room(
                db.session, item, form.name.data, form.active.data, form.capacity.data
            )
        except StayError as error:
            db.session.rollback()
            flash(error_message(error)[1], "error")
        else:
            audit("room.edit", "room", item.id, item.name)
            db.session.commit()
            flash(_("Room %(name)s saved.", name=item.name), "success")
    else:
        flash(" ".join(str(e) for e in form.name.errors) or _("Check the values."), "error")
    return redirect(url_for("stays.rooms"))


# ---- an after-school child's enrolment ------------------------------------------------------


@bp.route("/customers/<int:customer_id>/enrolments", methods=["POST"])
@desk_required
def enrol(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    form = EnrolmentForm(prefix="enrolment")
    if form.validate():
        try:
            enrolment = attendance.enrol(
                db.session, customer, group=form.group.data or "",
                starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                weekdays="".join(form.weekdays.data or []),
            )  # fmt: skip
        except attendance.AttendanceError as error:
            db.session.rollback()
            field = form.ends_on if error.code == "ends-before" else form.weekdays
            field.errors = [
                _("The end is before the start.")
                if error.code == "ends-before"
                else _("Choose at least one day of the week.")
            ]
        else:
            audit("enrolment.add", "customer", customer.id,
                  f"{enrolment.group_name} {enrolment.starts_on}-{enrolment.ends_on} "
                  f"{enrolment.weekdays}")  # fmt: skip
            db.session.commit()
            flash(_("Enrolment saved."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id) + "#enrolment")
    return form_panel_with_errors(customer, "enrolment", form, _("Enrol"))


@bp.route("/enrolments/<int:enrolment_id>/delete", methods=["POST"])
@desk_required
def unenrol(enrolment_id: int):
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    customer_id = enrolment.customer_id
    audit("enrolment.delete", "customer", customer_id,
          f"{enrolment.group_name} {enrolment.starts_on}-{enrolment.ends_on}")  # fmt: skip
    db.session.delete(enrolment)
    db.session.commit()
    flash(_("Enrolment removed."), "success")
    return redirect(url_for("customers.show", customer_id=customer_id) + "#enrolment")


# ---- a stays history sheet ------------------------------------------------------------------


def _stay_line_error(code: str, value: str) -> str:
    if code in ("customer", "customer-ambiguous"):
        return history_error(code, value)
    if code == "room":
        return _("A room name has at most 60 characters.")
    if code == "clash-line":
        return _("That room is already taken by line %(line)s of this sheet on those nights.",
                 line=value)  # fmt: skip
    return error_message(StayError(code, value))[1]


def _history_page() -> HistoryPage:
    return HistoryPage(
        spec=service.STAY_HISTORY,
        endpoint="stays.history",
        confirm_endpoint="stays.history_run",
        audit_action="stay.import",
        title=_("Import past stays"),
        intro=_(
            "One stay per row, the column names in the first row: member number (or name), "
            "check-in, check-out, room, adults, children, amount, note. Rooms not yet in "
            "Settings are added. Every line is checked first; nothing is saved until all "
            "are right."
        ),
        missing=_(
            "The first row needs the columns: a member number or name, check-in, "
            "check-out (room, adults, children, amount and note are optional)."
        ),
        describe=_stay_line_error,
        ready=lambda num: ngettext(
            "%(num)d stay is ready to import.", "%(num)d stays are ready to import.", num
        ),
        button=lambda num: ngettext("Import %(num)d stay", "Import %(num)d stays", num),
        imported=lambda num: _("%(num)d stays imported.", num=num),
        columns=[
            (_("Check-in"), "date", lambda line: line.values["check_in"]),
            (_("Check-out"), "date", lambda line: line.values["check_out"]),
            (_("Room"), "text", lambda line: line.values["room"]),
            (_("Amount (NT$)"), "money", lambda line: line.values["amount"]),
        ],
        links=[(url_for("purchases.history"), _("Import purchase history"))],
    )


@bp.route("/imports/stays", methods=["GET", "POST"])
@desk_required
def history():
    """Upload a sheet of past stays (the paper guest book); every line checked first."""
    return history_import.upload(_history_page())


@bp.route("/imports/stays/<token>", methods=["POST"])
@desk_required
def history_run(token: str):
    return history_import.confirm(_history_page(), token)
