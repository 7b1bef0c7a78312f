"""Signing in and out, and setting a password from a one-time link."""

from __future__ import annotations

from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
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

from feedback360.accounts import activation, second_factor, second_factor_views, sso_client
from feedback360.accounts.forms import SetPasswordForm, SignInForm
from feedback360.accounts.local_paths import local_path
from feedback360.accounts.models import Person
from feedback360.accounts.services import authenticate
from feedback360.accounts.signals import sign_in_refused
from feedback360.accounts.sso_views import sign_in_choices
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
        if person is not None and second_factor.required_for(person):
            return second_factor_views.begin(person, _local_target(request.args.get("next")))
        if person is not None:
            login_user(person)
            return redirect(_local_target(request.args.get("next")))
        form.password.errors.append("That email address and password do not match.")
        sign_in_refused.send(current_app._get_current_object(), email=form.email.data or "")
    return render_template("accounts/sign_in.html", form=form, choices=sign_in_choices())


def _local_target(target: str | None) -> str:
    """Where to go after signing in: the page asked for, if it is on this site."""
    return local_path(target) or url_for("feedback.home")


@bp.post("/sign-out")
@login_required
def sign_out() -> WerkzeugResponse:
    # The session lives in a signed cookie: a copy of it would outlive the sign-out, unless
    # every session of the person ends (as deactivation does).
    current_user.end_sessions()
    db.session.commit()
    id_token = session.get(sso_client.ID_TOKEN)
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    # Signed in through single sign-on: the provider's session ends too, where it offers that.
    sign_in_page = url_for("accounts.sign_in")
    return redirect(sso_client.sign_out_url(id_token, return_to=sign_in_page) or sign_in_page)


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
