"""Sign-in and sign-out views; sessions are server-side rows (see services.accounts)."""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import LoginForm, SetupForm
from app.extensions import db
from app.security import audit, client_ip, public
from app.services import accounts
from app.services.shop import ensure_shop


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if not accounts.has_owner(db.session):
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        result = accounts.authenticate(
            db.session,
            form.email.data,
            form.password.data,
            ip=client_ip() or "?",
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            window=timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"]),
            hash_method=current_app.config.get("PASSWORD_METHOD", "scrypt"),
        )
        if result.limited:
            error = _("Too many failed sign-ins. Please wait 15 minutes and try again.")
            status = 429
            audit("login.limited", detail=accounts.normalise_email(form.email.data))
            db.session.commit()
        elif result.user is None:
            error = _("That email and password do not match an active account.")
            status = 401
            audit("login.failed", detail=accounts.normalise_email(form.email.data))
            db.session.commit()
        else:
            user = result.user
            next_url = _safe_next(request.args.get("next"))
            lang = session.get("lang")
            session.clear()  # nothing from before sign-in survives it
            if lang:
                session["lang"] = lang
            accounts.start_session(db.session, user, ip=client_ip())
            audit("login", "user", user.id, user_id=user.id)
            db.session.commit()
            login_user(user)
            session.permanent = True
            return redirect(next_url)
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@public
def logout():
    if current_user.is_authenticated:
        accounts.end_session(db.session, current_user.session_token)
        audit("logout", "user", current_user.id)
        db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    """First run only: create the owner account. Gone (404) once an owner exists."""
    if accounts.has_owner(db.session):
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        shop = ensure_shop(db.session)
        shop.name = form.shop_name.data.strip()
        user = accounts.create_user(
            db.session,
            email=form.email.data,
            name=form.name.data,
            role="owner",
            password=form.password.data,
            hash_method=current_app.config.get("PASSWORD_METHOD", "scrypt"),
        )
        audit("user.create", "user", user.id, detail="first owner", user_id=user.id)
        db.session.commit()
        flash(_("The owner account is ready. Please sign in."), "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/setup.html", form=form), status


@bp.route("/language", methods=["POST"])
@public
def language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
