"""Views for enquiries: the board, a new enquiry, an enquiry's page and its actions, and the
owner's lost reasons."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.enquiries import bp
from app.blueprints.enquiries.forms import (
    ContactForm,
    EnquiryForm,
    EnrolForm,
    HotForm,
    ReasonForm,
    RhythmForm,
    StageForm,
    source_choices,
    stage_words,
)
from app.blueprints.shared import staff_choices
from app.extensions import db
from app.forms import as_select_choices
from app.models import ENQUIRY_STAGES, Enquiry
from app.security import desk_required, owner_required
from app.services import enquiries as service
from app.services import groups
from app.services.enquiries import winning
from app.services.shop import get_shop, shop_context


def _message(error: service.EnquiryError) -> str:
    return {
        "name-required": _("Enter their name."),
        "too-long": _("That is too long."),
        "email": _("Enter an email address like name@example.com."),
        "contact": _("Give a phone number or an email address, so the shop can get back to them."),
        "choice": _("Choose one of the options."),
        "budget": _("From 0 to 100,000,000."),
        "confidence": _("From 0 to 100."),
        "nights": _("They leave after they arrive."),
        "date-range": _("Enter a date from today to three years ahead."),
        "party": _("From 0 to 50."),
        "customer": _("That customer is no longer here."),
        "version": _("Someone else changed this enquiry just now. Look at it again and redo "
                     "your change."),
        "lost-reason": _("Choose why it was lost (or say it in a few words)."),
        "closed": _("This enquiry is closed: open it again first."),
        "group": _("Choose the class."),
        "quiet-days": _("From 1 to 60 days."),
        "gap-hours": _("From 0 to 168 hours (a week)."),
    }.get(error.code, _("Check the values and try again."))  # fmt: skip


def _enquiry_or_404(enquiry_id: int) -> Enquiry:
    enquiry = db.session.get(Enquiry, enquiry_id)
    if enquiry is None:
        abort(404)
    return enquiry


def _enquiry_form(enquiry: Enquiry | None = None, formdata=None) -> EnquiryForm:
    form = EnquiryForm(formdata=formdata, obj=enquiry) if enquiry else EnquiryForm(formdata)
    form.owner_id.choices = staff_choices(_("Nobody yet"))
    if enquiry is not None and formdata is None:
        form.owner_id.data = str(enquiry.owner_id or "")
        form.version.data = str(enquiry.version)
    return form


def _stage_form(enquiry: Enquiry, kind: str, formdata=None) -> StageForm:
    form = StageForm(formdata=formdata, prefix="stage")
    words = stage_words(kind)
    form.stage.choices = as_select_choices([(stage, words[stage]) for stage in ENQUIRY_STAGES])
    form.lost_reason_id.choices = as_select_choices(
        [("", _("Choose…"))]
        + [(str(reason.id), reason.name) for reason in service.lost_reasons(db.session)]
    )
    if formdata is None:
        form.stage.data = enquiry.stage
    return form


@bp.route("/enquiries")
@desk_required
def index():
    """The board: a column per stage on a desktop, one list on a tablet; filters."""
    shop = get_shop(db.session)
    owner = request.args.get("owner", "")
    filters = service.Filters(
        owner_id=int(owner) if owner.isdigit() else None,
        source=request.args.get("source", "") if request.args.get("source") in dict(
            source_choices()) else "",
        hot=request.args.get("hot") == "1",
        text=request.args.get("q", "").strip()[:60],
        show_closed=request.args.get("closed") == "1",
    )  # fmt: skip
    return render_template(
        "enquiries/index.html", columns=service.board(db.session, filters), filters=filters,
        words=stage_words(shop.kind), sources=dict(source_choices()),
        owners=staff_choices(_("Anyone")), hot_form=HotForm(),
    )  # fmt: skip


@bp.route("/enquiries/new", methods=["GET", "POST"])
@desk_required
def new():
    form = _enquiry_form(formdata=request.form if request.method == "POST" else None)
    kind = get_shop(db.session).kind
    if request.method == "GET":
        form.owner_id.data = str(current_user.id)
        return render_template("enquiries/form.html", form=form, enquiry=None, kind=kind)
    if form.validate():
        try:
            enquiry = service.create(db.session, form.values(), kind=kind,
                                     today=shop_context(db.session).today, actor=current_user)  # fmt: skip
        except service.EnquiryError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [_message(error)]
        else:
            db.session.commit()
            flash(_("Enquiry saved."), "success")
            return redirect(url_for("enquiries.show", enquiry_id=enquiry.id))
    return render_template("enquiries/form.html", form=form, enquiry=None, kind=kind), 422


def _enrol_form(shop, formdata=None) -> EnrolForm:
    form = EnrolForm(formdata=formdata, prefix="enrol")
    form.group.choices = as_select_choices(
        [("", _("Choose…"))] + [(name, name) for name in groups.group_names(db.session, shop)]
    )
    return form


def _page(enquiry: Enquiry, status: int = 200, **forms):
    shop = get_shop(db.session)
    kind = shop.kind
    return render_template(
        "enquiries/show.html", enquiry=enquiry, kind=kind, words=stage_words(kind),
        sources=dict(source_choices()), too_soon=service.too_soon(db.session, enquiry),
        form=forms.get("form") or _enquiry_form(enquiry),
        stage_form=forms.get("stage_form") or _stage_form(enquiry, kind),
        contact_form=forms.get("contact_form") or ContactForm(prefix="contact"),
        hot_form=HotForm(), booking_args=winning.booking_prefill(enquiry),
        enrol_form=forms.get("enrol_form") or _enrol_form(shop),
    ), status  # fmt: skip


@bp.route("/enquiries/<int:enquiry_id>")
@desk_required
def show(enquiry_id: int):
    return _page(_enquiry_or_404(enquiry_id))


def _act(enquiry: Enquiry, form, page_key: str, action):
    """Runs one change on a valid form: committed and back to the enquiry with the words
    `action` returns, or the page again (422) with the service's words under the field."""
    if form.validate():
        try:
            message = action()
        except service.EnquiryError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [_message(error)]
        else:
            db.session.commit()
            flash(*message)
            return redirect(url_for("enquiries.show", enquiry_id=enquiry.id))
    return _page(enquiry, 422, **{page_key: form})


@bp.route("/enquiries/<int:enquiry_id>/edit", methods=["POST"])
@desk_required
def edit(enquiry_id: int):
    enquiry = _enquiry_or_404(enquiry_id)
    form = _enquiry_form(enquiry, formdata=request.form)

    def save():
        service.update(
            db.session, enquiry, form.values(), kind=get_shop(db.session).kind,
            today=shop_context(db.session).today,
            expected_version=int(form.version.data or 0), actor=current_user,
        )  # fmt: skip
        return _("Enquiry saved."), "success"

    return _act(enquiry, form, "form", save)


@bp.route("/enquiries/<int:enquiry_id>/stage", methods=["POST"])
@desk_required
def stage(enquiry_id: int):
    enquiry = _enquiry_or_404(enquiry_id)
    form = _stage_form(enquiry, get_shop(db.session).kind, formdata=request.form)

    def move():
        reason = form.lost_reason_id.data
        service.move(db.session, enquiry, form.stage.data, actor=current_user,
                     lost_reason_id=int(reason) if reason else None,
                     lost_note=form.lost_note.data or "")  # fmt: skip
        return _("Stage changed."), "success"

    return _act(enquiry, form, "stage_form", move)


@bp.route("/enquiries/<int:enquiry_id>/hot", methods=["POST"])
@desk_required
def hot(enquiry_id: int):
    """Marks it hot or not; htmx swaps the button, a plain form goes back where it was."""
    enquiry = _enquiry_or_404(enquiry_id)
    form = HotForm()
    if not form.validate():
        abort(400)
    service.set_hot(db.session, enquiry, form.hot.data, actor=current_user)
    db.session.commit()
    if request.headers.get("HX-Request"):
        return render_template("enquiries/_hot.html", enquiry=enquiry, hot_form=HotForm())
    return redirect(request.referrer or url_for("enquiries.show", enquiry_id=enquiry.id))


@bp.route("/enquiries/<int:enquiry_id>/contact", methods=["POST"])
@desk_required
def contact(enquiry_id: int):
    enquiry = _enquiry_or_404(enquiry_id)
    form = ContactForm(prefix="contact")

    def note():
        done = service.record_contact(
            db.session, enquiry, channel=form.channel.data, note=form.note.data or "",
            next_follow_up=form.next_follow_up.data, actor=current_user,
        )  # fmt: skip
        if done.too_soon:
            return _("Noted. That is close on the last time: following too closely can put "
                     "people off."), "warning"  # fmt: skip
        return _("Noted."), "success"

    return _act(enquiry, form, "contact_form", note)


@bp.route("/enquiries/<int:enquiry_id>/enrol", methods=["POST"])
@desk_required
def enrol(enquiry_id: int):
    """A centre's enquiry won: the child enrolled in a class, the enquiry closed."""
    enquiry = _enquiry_or_404(enquiry_id)
    shop = get_shop(db.session)
    form = _enrol_form(shop, formdata=request.form)
    if form.validate():
        try:
            customer = winning.won_by_enrolment(
                db.session, enquiry, group=form.group.data, starts_on=form.starts_on.data,
                actor=current_user, today=shop_context(db.session).today,
            )  # fmt: skip
        except service.EnquiryError as error:
            db.session.rollback()
            form.group.errors = [_message(error)]
        else:
            db.session.commit()
            flash(_("Won: %(name)s is enrolled.", name=customer.display_name), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    return _page(enquiry, 422, enrol_form=form)


@bp.route("/enquiries/reasons", methods=["GET", "POST"])
@owner_required
def reasons():
    """The owner's list of reasons an enquiry was lost."""
    form = ReasonForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                service.add_lost_reason(db.session, form.name.data)
            except service.EnquiryError as error:
                db.session.rollback()
                form.name.errors = [_message(error) if error.code != "exists"
                                    else _("That reason is already on the list.")]  # fmt: skip
            else:
                db.session.commit()
                flash(_("Reason added."), "success")
                return redirect(url_for("enquiries.reasons"))
        status = 422
    return _settings_page(status, form=form)


def _settings_page(status: int = 200, **forms):
    shop = get_shop(db.session)
    rhythm = forms.get("rhythm_form") or RhythmForm(
        prefix="rhythm", formdata=None, quiet_days=shop.enquiry_quiet_days,
        min_gap_hours=shop.enquiry_min_gap_hours,
    )  # fmt: skip
    return render_template(
        "enquiries/reasons.html", form=forms.get("form") or ReasonForm(formdata=None),
        reasons=service.lost_reasons(db.session), rhythm_form=rhythm,
    ), status  # fmt: skip


@bp.route("/enquiries/rhythm", methods=["POST"])
@owner_required
def rhythm():
    """The follow-up rhythm: quiet days before a hot enquiry returns, the too-close gap."""
    form = RhythmForm(prefix="rhythm")
    if form.validate():
        try:
            service.save_rhythm(db.session, form.quiet_days.data, form.min_gap_hours.data)
        except service.EnquiryError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [_message(error)]
        else:
            db.session.commit()
            flash(_("Follow-up rhythm saved."), "success")
            return redirect(url_for("enquiries.reasons"))
    return _settings_page(422, rhythm_form=form)


@bp.route("/enquiries/reasons/<int:reason_id>/remove", methods=["POST"])
@owner_required
def remove_reason(reason_id: int):
    if not HotForm().validate():
        abort(400)
    if not service.remove_lost_reason(db.session, reason_id):
        abort(404)
    db.session.commit()
    flash(_("Reason removed from the list (enquiries lost for it keep it)."), "success")
    return redirect(url_for("enquiries.reasons"))
