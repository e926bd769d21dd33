"""Home page views."""

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from app.blueprints.main import bp
from app.extensions import db
from app.models import Role, Segment
from app.security import public, staff_required


@bp.route("/")
@staff_required
def home():
    segments = db.session.scalars(sa.select(Segment).order_by(Segment.name)).all()
    if current_user.role == Role.OWNER:
        return render_template("main/owner_home.html", saved_segments=segments)
    return render_template("main/my_day.html", saved_segments=segments)


@bp.route("/healthz")
@public
def healthz():
    """For load balancers and monitoring (and the benchmarks' baseline): no database."""
    return {"status": "ok"}
