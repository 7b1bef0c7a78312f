"""The sign-in step after the password for administrators and coaches: a code from their
authenticator app, set up the first time (see accounts.second_factor).

Between the two steps nobody is signed in: the session holds only who gave the right
password, until when, and where they were going.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import second_factor
from feedback360.accounts.forms import SecondFactorForm
from feedback360.accounts.models import Person
from feedback360.accounts.signals import sign_in_refused
from feedback360.actions import commit_or_refuse, run_form_action
from feedback360.errors import DomainError
from feedback360.extensions import db

bp = Blueprint("second_factor", __name__, url_prefix="/sign-in")

PENDING = "second_factor"
# Long enough to find the phone and install an app; then the password is asked again.
PENDING_SECONDS = 10 * 60
MOST_WRONG_CODES = 5
START_AGAIN = "Please sign in again: that took too long, or too many codes were wrong."


def begin(person: Person, target: str) -> WerkzeugResponse:
    """The password was right: ask for the code (or set it up) before signing them in."""
    session[PENDING] = {
        "person": person.get_id(),
        "until": int(time.time()) + PENDING_SECONDS,
        "next": target,
        "wrong": 0,
    }
    if second_factor.is_set_up(person):
        return redirect(url_for("second_factor.code"))
    return redirect(url_for("second_factor.set_up"))


@bp.route("/code", methods=["GET", "POST"])
def code() -> str | WerkzeugResponse | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("feedback.home"))
    pending, person = _pending()
    if person is None:
        return _start_again()
    if not second_factor.is_set_up(person):
        return redirect(url_for("second_factor.set_up"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        if run_form_action(form, partial(second_factor.check, person, form.code.data or "")):
            return _signed_in(person, pending)
        if _one_more_wrong(pending, person):
            return _start_again()
    page = render_template("accounts/second_factor.html", form=form, person=person)
    return (page, 400) if form.errors else page


@bp.route("/set-up", methods=["GET", "POST"])
def set_up() -> str | WerkzeugResponse | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("feedback.home"))
    pending, person = _pending()
    if person is None:
        return _start_again()
    if second_factor.is_set_up(person):
        return redirect(url_for("second_factor.code"))
    secret = pending.setdefault("secret", second_factor.new_secret())
    session.modified = True
    form = SecondFactorForm()
    form.code.description = "The six digits your app shows for feedback360 now."
    if form.validate_on_submit():
        done = commit_or_refuse(partial(second_factor.set_up, person, secret, form.code.data or ""))
        if not isinstance(done, DomainError):
            return _signed_in(person, pending, recovery_codes=done.outcome)
        form.code.errors.append(done.message)  # type: ignore[union-attr]
        if _one_more_wrong(pending, person):
            return _start_again()
    page = render_template(
        "accounts/second_factor_set_up.html",
        form=form,
        person=person,
        secret=secret,
        qr_code=second_factor.qr_code(person, secret),
    )
    return (page, 400) if form.errors else page


def _pending() -> tuple[dict[str, Any], Person | None]:
    """Who gave the right password here, if they are still the same, active and in time."""
    if current_user.is_authenticated:
        return {}, None
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or int(pending.get("until", 0)) < time.time():
        return {}, None
    person_id, _, epoch = str(pending.get("person", "")).partition(":")
    person = db.session.get(Person, int(person_id)) if person_id.isdigit() else None
    if person is None or person.get_id() != f"{person_id}:{epoch}" or not person.active:
        return {}, None
    return pending, person


def _one_more_wrong(pending: dict[str, Any], person: Person) -> bool:
    """Count a wrong code here and as a failed sign-in (so that the password step, which
    the rate limits guard, cannot be repeated to guess codes for ever)."""
    sign_in_refused.send(current_app._get_current_object(), email=person.email)  # type: ignore[attr-defined]
    pending["wrong"] = int(pending.get("wrong", 0)) + 1
    session.modified = True
    if pending["wrong"] < MOST_WRONG_CODES:
        return False
    session.pop(PENDING, None)
    return True


def _start_again() -> WerkzeugResponse:
    session.pop(PENDING, None)
    flash(START_AGAIN, "error")
    return redirect(url_for("accounts.sign_in"))


def _signed_in(
    person: Person, pending: dict[str, Any], recovery_codes: list[str] | None = None
) -> WerkzeugResponse:
    """Sign them in (a fresh session, without the pending step) and go where they were
    going; new recovery codes are shown first, once, and never kept by the browser."""
    target = str(pending.get("next") or url_for("feedback.home"))
    login_user(person)
    if not recovery_codes:
        return redirect(target)
    page = render_template("accounts/recovery_codes.html", codes=recovery_codes, target=target)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
