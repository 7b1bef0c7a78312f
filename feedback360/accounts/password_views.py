"""People's own passwords: "Forgot your password?" and changing it while signed in."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import password_changes
from feedback360.accounts.forms import ChangePasswordForm, ForgotPasswordForm
from feedback360.actions import run_form_action

bp = Blueprint("passwords", __name__, url_prefix="/account")


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot() -> str | WerkzeugResponse | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("passwords.change"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_changes.send_reset_link(form.email.data or "")
        flash(password_changes.SENT, "info")
        return redirect(url_for("accounts.sign_in"))
    page = render_template("accounts/forgot_password.html", form=form)
    return (page, 400) if form.errors else page


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change() -> str | WerkzeugResponse | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        change = partial(
            password_changes.change_password,
            current_user._get_current_object(),  # type: ignore[attr-defined]
            form.current.data or "",
            form.password.data or "",
        )
        if done := run_form_action(form, change):
            login_user(done.outcome)  # this session goes on; every other one has ended
            flash(
                "Your password has been changed, and you were signed out everywhere else.", "info"
            )
            return redirect(url_for("feedback.home"))
    page = render_template("accounts/change_password.html", form=form)
    return (page, 400) if form.errors else page
