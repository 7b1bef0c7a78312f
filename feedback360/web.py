"""Blueprints, sign-in wiring and friendly error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_url
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from feedback360 import ratelimits, security
from feedback360.accounts.models import Person
from feedback360.extensions import db, login_manager
from feedback360.security import expired_forms, sessions
from feedback360.timeutil import long_date, short_moment


class RowId(IntegerConverter):
    """An id in an address: a number larger than any row's id (the databases' 32-bit
    integers) is simply not found, instead of failing in the database driver."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    from feedback360 import about, input_checks
    from feedback360.accounts.password_views import bp as passwords
    from feedback360.accounts.second_factor_views import bp as second_factor
    from feedback360.accounts.sign_in_methods import password_sign_in_allowed, passwords_replaced
    from feedback360.accounts.sso_views import bp as single_sign_on
    from feedback360.accounts.views import bp as accounts
    from feedback360.admin import bp as admin
    from feedback360.coaching.views import bp as coaching
    from feedback360.feedback.approval_views import bp as approvals
    from feedback360.feedback.rater_views import bp as rater
    from feedback360.feedback.stage import JOURNEY, REPORT
    from feedback360.feedback.views import bp as feedback
    from feedback360.forms import page_has_errors
    from feedback360.reports.views import bp as reports

    app.url_map.converters["int"] = RowId
    # The words the templates share, each from its one home.
    app.jinja_env.globals.update(
        journey=JOURNEY,
        report_step=REPORT,
        password_sign_in_allowed=password_sign_in_allowed,
        passwords_replaced=passwords_replaced,
        page_has_errors=page_has_errors,
    )
    app.jinja_env.filters.update(long_date=long_date, short_moment=short_moment)
    for blueprint in (
        about.bp,
        accounts,
        passwords,
        second_factor,
        single_sign_on,
        admin,
        approvals,
        coaching,
        feedback,
        rater,
        reports,
    ):
        app.register_blueprint(blueprint)
    input_checks.init_app(app)

    login_manager.login_view = "accounts.sign_in"

    @login_manager.unauthorized_handler
    def ask_to_sign_in() -> ResponseReturnValue:
        # The page's script (autosave) is told in JSON: a redirect it followed would look saved.
        if sessions.wants_json():
            return sessions.signed_out_reply("you are not signed in; please sign in again.")
        # The front door needs no explanation; any other page says why it led here.
        if request.path == "/":
            return redirect(url_for("accounts.sign_in"))
        flash("Please sign in to see that page.", "info")
        return redirect(login_url("accounts.sign_in", request.url))

    @login_manager.user_loader
    def load_person(session_key: str) -> Person | None:
        person_id, _, epoch = session_key.partition(":")
        if not (person_id.isdigit() and epoch.isdigit()):
            return None
        person = db.session.get(Person, int(person_id))
        if person is None or not person.active or person.session_epoch != int(epoch):
            return None
        return person

    @app.errorhandler(CSRFError)
    def csrf_expired(error: CSRFError) -> ResponseReturnValue:
        # A timed-out session ends as usual; a rating page is shown again with what was posted.
        return expired_forms.reply(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return render_template(
            "error.html", title=error.name, message=error.description, code=code
        ), code

    # Headers (no-store on every page, CSP), session time-outs, and limits on guessing.
    security.init_app(app)
    ratelimits.init_app(app)
