"""The reports page: the I-CRM three on purchases, stays per month (a homestay) and attendance
per month (an after-school centre); on screen, printable, as .xlsx or CSV."""

from datetime import date, timedelta

from flask import Response, abort, render_template, request
from flask_babel import gettext as _

from app.blueprints.reports import bp
from app.clock import utcnow
from app.extensions import db
from app.security import audit, owner_required
from app.services import exporting
from app.services.purchases import PurchaseError, catalogue_words
from app.services.reports import attendance, sales, stays
from app.services.shop import shop_context
from app.vocabulary import shop_term


def _error_message(error: PurchaseError) -> str:
    return {
        "pattern": _("Type a product name; * stands for anything (* alone: every product)."),
    }.get(error.code, _("Check the values and try again."))


REPORTS = ("half_year", "history", "repurchase", "stays", "attendance")
SCREEN_ROWS = 500


def _whole_or_none(name: str) -> tuple[int | None, bool]:
    """(number, ok) for an optional whole-number query argument."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None, True
    if not text.isdigit() or len(text) > 9:
        return None, False
    return int(text), True


def _half_year_view(context, today, screen, person):
    found = sales.report_half_year(db.session, today, limit=screen)
    totals = {total.team: total for total in sales.team_totals(found)}
    context.update(rows=found, since=sales.half_year_start(today), team_totals=totals)
    header = [_("Team"), person, _("Member number"), _("Product"), _("Quantity"),
              _("Amount (NT$)")]  # fmt: skip
    rows = []
    for index, r in enumerate(found):
        team = r.team or _("No one assigned")
        rows.append([team, r.customer, r.member_number, r.product, r.quantity, r.amount])
        if index + 1 == len(found) or found[index + 1].team != r.team:
            total = totals[r.team]
            rows.append([_("Total: %(team)s", team=team), "", "", "", total.quantity,
                         total.amount])  # fmt: skip
    return header, rows


def _history_view(context, today, screen, person):
    pattern = (request.args.get("product") or "").strip()[:120]
    since_text = (request.args.get("since") or "").strip()
    try:
        since = date.fromisoformat(since_text) if since_text else date(today.year, 1, 1)
    except ValueError:
        since = date(today.year, 1, 1)
        context["error"] = _("Enter a real date (year-month-day), e.g. 2018-02-28.")
    context.update(pattern=pattern, since=since)
    if not pattern or context["error"]:
        return [], []
    try:
        found = sales.report_history(db.session, since, pattern, limit=screen)
    except PurchaseError as error:
        context["error"] = _error_message(error)
        return [], []
    context["rows"] = found
    header = [_("Date"), person, _("Product"), _("Quantity"), _("Unit price (NT$)"),
              _("Amount (NT$)"), _("Note")]  # fmt: skip
    return header, [[r.day, r.customer, r.product, r.quantity, r.unit_price, r.amount, r.note]
                    for r in found]  # fmt: skip


def _stays_view(context, today, screen, person):
    year_text = (request.args.get("year") or "").strip()
    valid = year_text.isdigit() and 1900 <= int(year_text) <= 2200
    year = int(year_text) if valid else today.year
    if year_text and not valid:
        context["error"] = _("Enter a year such as %(year)d.", year=today.year)
    found = stays.month_occupancy(db.session, year)
    context.update(rows=found, year=year)
    header = [_("Month"), _("Stays"), _("Nights"), _("Amount (NT$)"), _("Occupancy")]
    return header, [[f"{year}-{r.month:02d}", r.stays, r.nights, r.amount,
                     "" if r.occupancy is None else f"{r.occupancy:.0%}"] for r in found]  # fmt: skip


def _attendance_view(context, today, screen, person):
    month_text = (request.args.get("month") or "").strip()
    try:
        first = date.fromisoformat(month_text + "-01") if month_text else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
        context["error"] = _("Enter a month such as %(month)s.", month=first.strftime("%Y-%m"))
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    found = attendance.month_report(db.session, first, last)
    context.update(rows=found, month=first.strftime("%Y-%m"))
    return [person, _("Days here"), _("Days absent")], [
        [r.name, r.present, r.absent] for r in found
    ]


def _repurchase_view(context, today, screen, person):
    min_price, ok_price = _whole_or_none("min_price")
    min_points, ok_points = _whole_or_none("min_points")
    context.update(min_price=min_price, min_points=min_points)
    if not (ok_price and ok_points):
        context["error"] = _("Enter whole numbers for the minimum price and points.")
        return [], []
    found = sales.report_repurchase(
        db.session, today, min_price=min_price, min_points=min_points, limit=screen
    )
    context["rows"] = found
    header = [person, _("Product"), _("Last bought"), _("Quantity that day"), _("Days ago")]
    return header, [[r.customer, r.product, r.last_day, r.quantity, r.days_ago] for r in found]


# report -> (context, today, rows on screen or None, the shop's word for a customer)
#           -> (file header, file rows); each fills what the page shows into context
_REPORT_VIEWS = {
    "half_year": _half_year_view,
    "history": _history_view,
    "stays": _stays_view,
    "attendance": _attendance_view,
    "repurchase": _repurchase_view,
}


@bp.route("/reports")
@owner_required
def index():
    report = request.args.get("report", "half_year")
    if report not in REPORTS:
        abort(404)
    today = shop_context(db.session).today
    file_format = request.args.get("format")
    # On screen the first SCREEN_ROWS (one more tells that there are more); files get all.
    screen = None if file_format in ("csv", "xlsx") else SCREEN_ROWS + 1
    context = {
        "report": report, "today": today, "error": None, "rows": None,
        "catalogue": catalogue_words(db.session),
    }  # fmt: skip
    header, rows = _REPORT_VIEWS[report](context, today, screen, shop_term("customer"))
    if file_format in ("csv", "xlsx") and header and not context["error"]:
        audit("report.export", detail=f"{report} {file_format} rows={len(rows)}")
        db.session.commit()
        name = f"hearth-{report}-{utcnow():%Y%m%d}"
        if file_format == "csv":
            body, mimetype = exporting.to_csv(header, rows), "text/csv"
        else:
            body = exporting.to_xlsx(header, rows, report)
            mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{name}.{file_format}"'},
        )
    rows_found = context["rows"]
    if rows_found is not None and len(rows_found) > SCREEN_ROWS:
        # The screen (and the printout) shows the first rows; the files have them all.
        context.update(rows=rows_found[:SCREEN_ROWS], more_rows=True)
    return render_template("reports/index.html", **context)
