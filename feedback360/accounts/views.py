"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts.forms import SignInForm
from feedback360.accounts.services import authenticate

bp = Blueprint("accounts", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | WerkzeugResponse:
    if current_user.is_authenticated:
        return redirect(url_for("feedback.home"))
    form = SignInForm()
    if form.validate_on_submit():
        person = authenticate(form.email.data or "", form.password.data or "")
        if person is not None:
            login_user(person)
            return redirect(_local_target(request.args.get("next")))
        form.password.errors.append("That email address and password do not match.")
    return render_template("accounts/sign_in.html", form=form)


def _local_target(target: str | None) -> str:
    """Where to go after signing in: the page asked for, if it is on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("feedback.home")


@bp.post("/sign-out")
@login_required
def sign_out() -> WerkzeugResponse:
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("accounts.sign_in"))
