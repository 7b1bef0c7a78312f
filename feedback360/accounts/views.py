"""Signing in and out, and setting a password from a one-time link."""

from __future__ import annotations

from functools import partial

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import activation
from feedback360.accounts.forms import SetPasswordForm, SignInForm
from feedback360.accounts.models import Person
from feedback360.accounts.services import authenticate
from feedback360.actions import run_form_action
from feedback360.extensions import db

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
    # The session lives in a signed cookie: a copy of it would outlive the sign-out, unless
    # every session of the person ends (as deactivation does).
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> WerkzeugResponse:
    person = _link_owner(token)
    form = SetPasswordForm()
    if form.validate_on_submit():
        set_it = partial(activation.set_password_with_token, token, form.password.data or "")
        if done := run_form_action(form, set_it):
            logout_user()  # whoever used this browser before
            login_user(done.outcome)
            flash("Your password is set and you are signed in.", "info")
            return redirect(url_for("feedback.home"))
    page = render_template("accounts/set_password.html", form=form, person=person)
    return _private(make_response(page, 400 if form.errors else 200))


def _link_owner(token: str) -> Person:
    """The person a set-password link belongs to; a link that cannot be used gets a clear page."""
    try:
        return activation.person_for_token(token)
    except activation.LinkProblem as problem:
        status = 404 if problem.reason == activation.INVALID else 410
        page = render_template("accounts/password_link_problem.html", reason=problem.reason)
        abort(_private(make_response(page, status)))


def _private(response: WerkzeugResponse) -> WerkzeugResponse:
    # The token is in the address: never send it on to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
