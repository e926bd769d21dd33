"""The room calendar (rooms × days), closing and reopening a room, each room's page with its
closures and iCal addresses, and the public export address booking sites read."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.calendar import bp
from app.blueprints.calendar.forms import ClosureForm, FeedForm
from app.extensions import db
from app.models import Role, Room, RoomBlock, RoomFeed
from app.security import audit, desk_required, owner_required, public
from app.services.rooms import blocks as block_service
from app.services.rooms import calendar as calendar_service
from app.services.rooms import ical
from app.services.shop import get_shop, shop_context


def _calendar_error(code: str) -> str:
    return {
        "start": _("Enter a real date (year-month-day), e.g. 2018-02-28."),
        "start-range": _("The calendar goes from ten years back to five years ahead."),
        "days": _("Show 14 or 31 days."),
    }.get(code, _("Check the values and try again."))


@bp.route("/calendar")
@desk_required
def index():
    """Rooms × nights: two weeks (a tablet) or a month (a desktop), from ?start=."""
    today = shop_context(db.session).today
    days_asked = request.args.get("days")
    try:
        start, length = calendar_service.window(request.args.get("start"), days_asked, today)
    except calendar_service.CalendarError as error:
        return render_template(
            "calendar/index.html", grid=None, error=_calendar_error(error.code), today=today,
            form=None,
        ), 422  # fmt: skip
    grid = calendar_service.build_grid(db.session, start, length, today)
    form = ClosureForm(prefix="close", formdata=None, back="calendar")
    return render_template(
        "calendar/index.html", grid=grid, error=None, today=today, form=form,
        chosen=days_asked is not None,
    )  # fmt: skip


def _closure_message(error: block_service.BlockError) -> tuple[str, str]:
    return {
        "dates": ("starts_on", _("Enter both dates.")),
        "date-range": ("starts_on", _("Enter dates from five years back to five years ahead.")),
        "ends-first": ("ends_on", _("The room opens again after the first closed night.")),
        "too-long": ("ends_on", _("Close a room for at most 366 nights at a time.")),
        "note-long": ("note", _("At most 200 characters, please.")),
        "booked": ("starts_on", _("The room is booked then (%(booking)s): move or cancel that "
                                  "booking first.", booking=error.detail)),
    }.get(error.code, ("starts_on", _("Check the values and try again.")))  # fmt: skip


def _feed_problem(status: str) -> str:
    """Why a booking site's calendar could not be read, for the owner."""
    return {
        "timeout": _("the site did not answer in time"),
        "too-big": _("the file is larger than 2 MB"),
        "too-many-events": _("the file has more than 5,000 events"),
        "invalid": _("the file is not a calendar (.ics)"),
        "http": _("the site answered with an error"),
        "redirect": _("the site sent us to an address that is not http(s)"),
        "network": _("the site could not be reached"),
    }.get(status, _("unknown problem"))


def _room_page(room: Room, status: int = 200, closure_form=None, feed_form=None):
    context = shop_context(db.session)
    export = ical.export_of(db.session, room.id) if current_user.role == Role.OWNER else None
    return render_template(
        "calendar/room.html",
        room=room,
        blocks=block_service.closures(db.session, room.id, context.today),
        form=closure_form or ClosureForm(prefix="close", formdata=None, room_id=str(room.id)),
        feed_form=feed_form or FeedForm(prefix="feed", formdata=None),
        feeds=ical.feeds_of(db.session, room.id) if current_user.role == Role.OWNER else [],
        export=export,
        today=context.today,
        feed_problem=_feed_problem,
    ), status


@bp.route("/calendar/rooms/<int:room_id>")
@desk_required
def room(room_id: int):
    """A room's closures (close it for dates, reopen), and for the owner its iCal addresses."""
    return _room_page(db.get_or_404(Room, room_id))


@bp.route("/calendar/closures", methods=["POST"])
@desk_required
def close():
    form = ClosureForm(prefix="close")
    item = (
        db.session.get(Room, int(form.room_id.data))
        if (form.room_id.data or "").isdigit()
        else None
    )
    if form.validate() and item is not None:
        try:
            block = block_service.close_room(
                db.session, item, form.starts_on.data, form.ends_on.data, form.note.data,
                actor=current_user, today=shop_context(db.session).today,
            )  # fmt: skip
        except block_service.BlockError as error:
            db.session.rollback()
            field, message = _closure_message(error)
            getattr(form, field).errors = [message]
        else:
            audit(
                "room.close", "room", item.id, f"{block.starts_on} → {block.ends_on} {block.note}"
            )
            db.session.commit()
            flash(_("%(room)s is closed from %(first)s until %(open)s.", room=item.name,
                    first=block.starts_on.isoformat(), open=block.ends_on.isoformat()), "success")  # fmt: skip
            if form.back.data == "calendar":
                return redirect(url_for("calendar.index", start=block.starts_on.isoformat()))
            return redirect(url_for("calendar.room", room_id=item.id))
    if item is None:
        item = (
            db.session.get(Room, int(form.room_id.data))
            if (form.room_id.data or "").isdigit()
            else None
        )
        if item is None:
            abort(422)
    return _room_page(item, 422, closure_form=form)


@bp.route("/calendar/closures/<int:block_id>/reopen", methods=["POST"])
@desk_required
def reopen(block_id: int):
    block = db.get_or_404(RoomBlock, block_id)
    room_id = block.room_id
    try:
        block_service.reopen(db.session, block)
    except block_service.BlockError:
        db.session.rollback()
        flash(_("A booking site's block goes when that site's calendar no longer has it."), "error")
    else:
        audit("room.reopen", "room", room_id, f"{block.starts_on} → {block.ends_on}")
        db.session.commit()
        flash(_("The room is open again on those nights."), "success")
    return redirect(url_for("calendar.room", room_id=room_id))


# ---- iCal: the owner's settings, and the public export address --------------------------------


@bp.route("/calendar/rooms/<int:room_id>/export", methods=["POST"])
@owner_required
def new_export(room_id: int):
    """Creates the room's secret export address, or replaces it (the old one stops working)."""
    item = db.get_or_404(Room, room_id)
    had = ical.export_of(db.session, item.id) is not None
    ical.new_export_token(db.session, item)
    audit("room.ical_export", "room", item.id, "regenerated" if had else "created")
    db.session.commit()
    flash(_("A new export address is ready: give it to the booking sites.") if had else
          _("The export address is ready: give it to the booking sites."), "success")  # fmt: skip
    return redirect(url_for("calendar.room", room_id=item.id) + "#export")


def _feed_message(error: ical.FeedError) -> tuple[str, str]:
    return {
        "name": ("name", _("Enter the booking site's name (at most 60 characters).")),
        "url": ("url", _("Enter an address starting with https:// or http://.")),
        "url-long": ("url", _("The address is too long.")),
        "url-exists": ("url", _("This room already reads that address.")),
        "too-many-feeds": ("url", _("A room reads at most 5 calendars.")),
    }.get(error.code, ("url", _("Check the values and try again.")))


@bp.route("/calendar/rooms/<int:room_id>/feeds", methods=["POST"])
@owner_required
def add_feed(room_id: int):
    item = db.get_or_404(Room, room_id)
    form = FeedForm(prefix="feed")
    if form.validate():
        try:
            feed = ical.add_feed(db.session, item, form.name.data, form.url.data)
        except ical.FeedError as error:
            db.session.rollback()
            field, message = _feed_message(error)
            getattr(form, field).errors = [message]
        else:
            audit("room.ical_feed_add", "room", item.id, f"{feed.name} {feed.url}")
            db.session.commit()
            from app.tasks import refresh_room_feeds

            refresh_room_feeds()  # read at once, not only at the next quarter hour
            flash(_("%(site)s's calendar is added; it is read every 15 minutes.",
                    site=feed.name), "success")  # fmt: skip
            return redirect(url_for("calendar.room", room_id=item.id) + "#feeds")
    return _room_page(item, 422, feed_form=form)


@bp.route("/calendar/feeds/<int:feed_id>/delete", methods=["POST"])
@owner_required
def delete_feed(feed_id: int):
    feed = db.get_or_404(RoomFeed, feed_id)
    room_id, name = feed.room_id, feed.name
    ical.remove_feed(db.session, feed)
    audit("room.ical_feed_delete", "room", room_id, name)
    db.session.commit()
    flash(_("%(site)s's calendar is no longer read; its blocks are gone.", site=name), "success")
    return redirect(url_for("calendar.room", room_id=room_id) + "#feeds")


@bp.route("/ical/<token>.ics")
@public
def export(token: str):
    """What a booking site reads: the room's nights taken, nothing personal."""
    item = ical.room_for_token(db.session, token)
    if item is None:
        abort(404)
    shop = get_shop(db.session)
    with force_locale(shop.default_locale or "zh_Hant"):
        booked, closed = _("Booked"), _("Closed")
    body = ical.export_calendar(
        db.session, item, shop_context(db.session).today, booked=booked, closed=closed
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "no-store"
    return response
