"""Sign-in, sign-out, password change, and account management for admins (/admin/accounts)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from seminar.accounts import services
from seminar.accounts.access import require_roles
from seminar.accounts.forms import ActionForm, LoginForm, PasswordChangeForm, RoleForm, UserCreateForm, role_choices
from seminar.accounts.models import Role
from seminar.extensions import limiter

bp = Blueprint("accounts", __name__)
admin_bp = require_roles(Blueprint("accounts_admin", __name__, url_prefix="/admin/accounts"), Role.admin)


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no scheme, host, `//` or backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 for ch in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user) -> str:
    if user.role is Role.checkin:
        return url_for("checkin.index") if "checkin.index" in current_app.view_functions else url_for("events.index")
    return url_for("admin.index")


@bp.before_app_request
def _end_expired_session():
    """A signed-in session lasts PERMANENT_SESSION_LIFETIME from sign-in, however active."""
    if "_user_id" not in session:
        return
    signed_in = session.get("auth_at")
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if signed_in is None or datetime.now(UTC).timestamp() - float(signed_in) > lifetime:
        logout_user()
        session.pop("auth_at", None)


def _start_session(user) -> None:
    login_user(user)
    session.permanent = True
    session["auth_at"] = datetime.now(UTC).timestamp()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user)
            return redirect(safe_next(form.next.data) or home_for(user))
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(safe_next(form.next.data) or home_for(current_user))
    # After a failed attempt, one message whatever was wrong (no hint whether the address has an account), shown
    # as the form's error summary, with both fields marked invalid and pointing to it.
    failed = request.method == "POST"
    return render_template("accounts/login.html", form=form, failed=failed), (401 if failed else 200)


@bp.post("/logout")
def logout():
    if not ActionForm().validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        services.sign_out(current_user._get_current_object())  # a copy of this cookie stops working too
    logout_user()
    session.pop("auth_at", None)
    flash(_("You are signed out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user._get_current_object(), form.current_password.data,
                                     form.new_password.data)
        except services.AccountError as error:
            form.new_password.errors = list(error.problems)
        else:
            _start_session(current_user._get_current_object())  # this session carries the new nonce
            flash(_("Your password is changed. Your other sessions are signed out."), "success")
            return redirect(home_for(current_user))
    return render_template("accounts/password.html", form=form)


@admin_bp.route("/", methods=["GET", "POST"])
def users():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.email.data, form.password.data, Role(form.role.data),
                                        by=current_user._get_current_object())
        except services.AccountError as error:
            form[error.field].errors = list(error.problems)
        else:
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("accounts_admin.users"))
    return render_template("accounts/users.html", form=form, users=services.list_users(),
                           role_labels=dict(role_choices()))


@admin_bp.post("/<int:user_id>/role")
def set_role(user_id: int):
    form = RoleForm()
    if form.validate_on_submit():
        _apply(lambda: services.set_role(user_id, Role(form.role.data), by=current_user._get_current_object()),
               _("Role changed."))
    return redirect(url_for("accounts_admin.users"))


@admin_bp.post("/<int:user_id>/active")
def set_active(user_id: int):
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        _apply(lambda: services.set_active(user_id, active, by=current_user._get_current_object()),
               _("Account activated.") if active else _("Account deactivated."))
    return redirect(url_for("accounts_admin.users"))


@admin_bp.post("/<int:user_id>/logout")
def logout_everywhere(user_id: int):
    if ActionForm().validate_on_submit():
        _apply(lambda: services.sign_out_everywhere(user_id, by=current_user._get_current_object()),
               _("The account is signed out everywhere."))
    return redirect(url_for("accounts_admin.users"))


def _apply(change, done: str) -> None:
    try:
        change()
    except services.AccountError as error:
        for problem in error.problems:
            flash(problem, "error")
    else:
        flash(done, "success")
