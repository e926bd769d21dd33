"""Owner-only staff management: list, add, change role, deactivate, reset password."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.blueprints.staff import bp
from app.blueprints.staff.forms import PasswordResetForm, StaffCreateForm, StaffEditForm
from app.extensions import db
from app.models import User
from app.security import audit, owner_required
from app.services import accounts


def _account_error_message(error: accounts.AccountError) -> str:
    code = str(error)
    if code == "email-taken":
        return _("Another account already uses this email.")
    if code == "last-owner":
        return _("The shop needs at least one active owner.")
    return _("Use at least %(num)d characters.", num=accounts.MIN_PASSWORD_LENGTH)


@bp.route("/")
@owner_required
def index():
    users = accounts.staff_list(db.session)
    return render_template("staff/index.html", users=users)


@bp.route("/new", methods=["GET", "POST"])
@owner_required
def create():
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                hash_method=current_app.config.get("PASSWORD_METHOD", "scrypt"),
            )
        except accounts.AccountError as error:
            db.session.rollback()
            form.email.errors = [*form.email.errors, _account_error_message(error)]
        else:
            audit("user.create", "user", user.id, detail=f"role {user.role.value}")
            db.session.commit()
            flash(_("%(name)s can now sign in.", name=user.name), "success")
            return redirect(url_for("staff.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/form.html", form=form, user=None), status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@owner_required
def edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = StaffEditForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = user.role.value
    password_form = PasswordResetForm(prefix="pw")
    if form.validate_on_submit():
        try:
            changes = accounts.update_user(
                db.session, user, role=form.role.data, active=form.active.data, name=form.name.data
            )
        except accounts.AccountError as error:
            db.session.rollback()
            flash(_account_error_message(error), "error")
        else:
            for change in changes:
                audit(
                    "user.role" if change.startswith("role") else "user.update",
                    "user",
                    user.id,
                    change,
                )
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("staff.index"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "staff/form.html", form=form, password_form=password_form, user=user
    ), status


@bp.route("/<int:user_id>/password", methods=["POST"])
@owner_required
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    password_form = PasswordResetForm(prefix="pw")
    if password_form.validate_on_submit():
        accounts.reset_password(
            db.session,
            user,
            password_form.password.data,
            current_app.config.get("PASSWORD_METHOD", "scrypt"),
        )
        audit("user.password_reset", "user", user.id)
        db.session.commit()
        flash(
            _("The new password is set; %(name)s is signed out everywhere.", name=user.name),
            "success",
        )
        return redirect(url_for("staff.index"))
    form = StaffEditForm(obj=user)
    form.role.data = user.role.value
    return render_template(
        "staff/form.html", form=form, password_form=password_form, user=user
    ), 422
