"""People's own passwords: "Forgot your password?" and changing it while signed in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import password_changes
from feedback360.accounts.forms import ChangePasswordForm, ForgotPasswordForm
from feedback360.actions import run_form_action

bp = Blueprint("passwords", __name__, url_prefix="/account")
log = logging.getLogger(__name__)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot() -> str | WerkzeugResponse | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("passwords.change"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        flash(password_changes.SENT, "info")
        response = redirect(url_for("accounts.sign_in"))
        _after_the_response(response, partial(password_changes.send_reset_link, form.email.data))
        return response
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


def _after_the_response(response: WerkzeugResponse, work: Callable[[], None]) -> None:
    """Do the work once the response has gone, so that how long the answer took says nothing
    about whether the address has an account."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:  # a failure here reaches nobody's page: keep it in the log
                log.exception("Could not finish a forgotten-password request")

    response.call_on_close(run)
