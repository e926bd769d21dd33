"""Home page views."""

from flask import render_template
from flask_login import current_user

from app.blueprints.main import bp
from app.models import Role
from app.security import public, staff_required


@bp.route("/")
@staff_required
def home():
    if current_user.role == Role.OWNER:
        return render_template("main/owner_home.html")
    return render_template("main/my_day.html")


@bp.route("/healthz")
@public
def healthz():
    """For load balancers and monitoring (and the benchmarks' baseline): no database."""
    return {"status": "ok"}
