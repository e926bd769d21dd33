"""Saved segments: list with live counts, save from the list, edit, delete."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.segments import bp
from app.blueprints.segments.forms import SegmentForm
from app.blueprints.segments.messages import segment_error_message
from app.clock import utcnow
from app.extensions import db
from app.models import Segment
from app.security import audit, desk_required, staff_required
from app.services import segments as seg
from app.services.shop import shop_context
from app.vocabulary import shop_term


def _context() -> seg.Context:
    return shop_context(db.session)


def _validate(form: SegmentForm, segment: Segment | None) -> bool:
    """Field checks, then the expression must compile and the name be free."""
    if not form.validate_on_submit():
        return False
    try:
        seg.compile_expression(db.session, seg.parse(form.expression.data), _context())
    except seg.SegmentError as error:
        form.expression.errors = [segment_error_message(error, form.expression.data)]
        return False
    if seg.name_taken(db.session, form.name.data, segment.id if segment else None):
        form.name.errors = [_("Another segment already has this name.")]
        return False
    return True


@bp.route("/")
@staff_required
def index():
    rows = []
    context = _context()
    for segment in seg.saved_segments(db.session):
        try:
            rows.append((segment, seg.count(db.session, segment.expression, context), None))
        except seg.SegmentError as error:
            # e.g. a tag it names was deleted since: say so instead of failing the page.
            rows.append((segment, None, segment_error_message(error, segment.expression)))
    return render_template("segments/index.html", rows=rows, form=SegmentForm(formdata=None))


@bp.route("/", methods=["POST"])
@desk_required
def create():
    form = SegmentForm()
    if _validate(form, None):
        segment = Segment(
            name=form.name.data.strip(),
            expression=form.expression.data.strip(),
            created_by_id=current_user.id,
        )
        db.session.add(segment)
        db.session.flush()
        audit("segment.create", "segment", segment.id, segment.name)
        db.session.commit()
        flash(_("Segment %(name)s saved.", name=segment.name), "success")
        return redirect(url_for("customers.index", q=segment.expression))
    return render_template("segments/form.html", form=form, segment=None), 422


@bp.route("/<int:segment_id>/edit", methods=["GET", "POST"])
@desk_required
def edit(segment_id: int):
    segment = db.get_or_404(Segment, segment_id)
    form = SegmentForm(obj=segment if request.method == "GET" else None)
    if request.method == "POST" and _validate(form, segment):
        segment.name = form.name.data.strip()
        segment.expression = form.expression.data.strip()
        segment.updated_at = utcnow()
        audit("segment.update", "segment", segment.id, segment.name)
        db.session.commit()
        flash(_("Segment %(name)s saved.", name=segment.name), "success")
        return redirect(url_for("segments.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("segments/form.html", form=form, segment=segment), status


@bp.route("/<int:segment_id>/delete", methods=["GET", "POST"])
@desk_required
def delete(segment_id: int):
    segment = db.get_or_404(Segment, segment_id)
    if request.method == "POST":
        name = segment.name
        db.session.delete(segment)
        audit("segment.delete", "segment", segment_id, name)
        db.session.commit()
        flash(
            _(
                "Segment %(name)s deleted. The %(people)s are not affected.",
                name=name,
                people=shop_term("people"),
            ),
            "info",
        )
        return redirect(url_for("segments.index"))
    return render_template("segments/delete.html", segment=segment)
