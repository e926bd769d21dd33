"""Mailing labels: one per customer with an address; the ones without are listed, not dropped."""

from flask import flash, redirect, render_template, request, url_for

from app.blueprints.labels import bp
from app.blueprints.segments.messages import segment_error_message
from app.clock import utcnow
from app.extensions import db
from app.models import Customer
from app.security import desk_required
from app.services import segments as seg
from app.services.shop import get_shop

SHEETS = {"a4-3x8": (3, 8), "a4-2x7": (2, 7)}


def label_lines(customer: Customer, kind: str) -> list[str]:
    """Who the envelope is for: for a child, the guardian (child's name beside)."""
    if kind == "afterschool":
        guardians = [m for m in customer.family_members if m.is_guardian]
        if guardians:
            return [f"{guardians[0].name} 收", f"({customer.display_name})"]
    return [
        f"{customer.display_name} 收"
        if any("\u4e00" <= ch <= "\u9fff" for ch in customer.display_name)
        else customer.display_name
    ]


@bp.route("/labels")
@desk_required
def sheet():
    segment_id = request.args.get("segment", type=int)
    segment = seg.segment_by_id(db.session, segment_id)
    expression = segment.expression if segment else request.args.get("q", "").strip()
    sheet_name = request.args.get("sheet") if request.args.get("sheet") in SHEETS else "a4-3x8"
    shop = get_shop(db.session)
    try:
        customers = seg.customers_for_labels(
            db.session, expression or "level:A,B,C", seg.Context(now=utcnow(), zone=shop.timezone)
        )
    except seg.SegmentError as error:
        flash(segment_error_message(error, expression), "error")
        return redirect(url_for("customers.index", q=expression))
    with_address = [c for c in customers if (c.postal_address or "").strip()]
    without = [c for c in customers if not (c.postal_address or "").strip()]
    columns, rows = SHEETS[sheet_name]
    labels = [
        {"lines": label_lines(c, shop.kind), "address": c.postal_address.strip()}
        for c in with_address
    ]
    per_page = columns * rows
    pages = [labels[i : i + per_page] for i in range(0, len(labels), per_page)]
    return render_template(
        "labels/sheet.html",
        pages=pages,
        without=without,
        sheet=sheet_name,
        expression=expression,
        segment=segment,
        sheets=SHEETS,
        total=len(labels),
    )
