"""Signing in through the organisation's single sign-on (OpenID Connect) provider."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import sign_in_methods, single_sign_on, sso_client
from feedback360.accounts.local_paths import local_path
from feedback360.extensions import db
from feedback360.sqlite import writes

bp = Blueprint("single_sign_on", __name__)

NEXT = "single_sign_on_next"  # the page asked for, kept in the session while away
FAILED, UNAVAILABLE = "failed", "unavailable"
NOT_SET_UP = "Single sign-on is not set up here: sign in with your email address and password."


@bp.post("/sign-in/single-sign-on")
def start() -> WerkzeugResponse | tuple[str, int]:
    if (elsewhere := _nothing_to_do()) is not None:
        return elsewhere
    session[NEXT] = local_path(request.args.get("next"))
    try:
        return sso_client.redirect_to_provider()
    except sso_client.SignInFailed:
        return _problem(UNAVAILABLE)


@bp.get(sso_client.CALLBACK_PATH)
@writes  # links the subject; the provider is asked before the transaction starts
def finish() -> WerkzeugResponse | tuple[str, int]:
    if (elsewhere := _nothing_to_do()) is not None:
        return elsewhere
    try:
        vouched = sso_client.vouched_for()
        email = single_sign_on.email_in(vouched.claims, current_app.config["OIDC_EMAIL_CLAIM"])
        person = single_sign_on.person_signing_in(vouched.subject, email)
    except sso_client.SignInFailed as failed:
        return _problem(UNAVAILABLE if failed.unavailable else FAILED)
    except single_sign_on.SignInRefused as refused:
        db.session.rollback()
        return _problem(refused.reason, email=email)
    target = session.get(NEXT) or url_for("feedback.home")
    db.session.commit()
    login_user(person)  # a fresh session, with the time-outs of any other sign-in
    if vouched.id_token:
        session[sso_client.ID_TOKEN] = vouched.id_token  # for the provider's sign-out
    return redirect(target)


@dataclass(frozen=True)
class SignInChoices:
    """What the sign-in page offers: with single sign-on only, one button (and the
    administrators' way in by password, on a page of its own)."""

    button: bool  # "Sign in with your organisation account"
    password_form: bool
    administrators_only: bool  # the password form is the administrators' alone
    administrators_link: bool  # to that form


def sign_in_choices() -> SignInChoices:
    config = current_app.config
    on, replaced = sign_in_methods.is_on(config), sign_in_methods.passwords_replaced(config)
    administrators_page = replaced and request.args.get("method") == "password"
    return SignInChoices(
        button=on and not administrators_page,
        password_form=not replaced or administrators_page,
        administrators_only=administrators_page,
        administrators_link=replaced and not administrators_page,
    )


def _nothing_to_do() -> WerkzeugResponse | None:
    """Signed in already, or no single sign-on here: where to go instead."""
    if current_user.is_authenticated:
        return redirect(url_for("feedback.home"))
    if not sign_in_methods.is_on(current_app.config):
        flash(NOT_SET_UP, "error")
        return redirect(url_for("accounts.sign_in"))
    return None


def _problem(reason: str, email: str | None = None) -> tuple[str, int]:
    status = {FAILED: 400, UNAVAILABLE: 502}.get(reason, 403)
    page = render_template("accounts/single_sign_on_problem.html", reason=reason, email=email)
    return page, status
