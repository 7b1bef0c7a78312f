"""Blueprints, sign-in wiring and friendly error pages."""

from __future__ import annotations

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from feedback360.accounts.models import Person
from feedback360.extensions import db, login_manager


def init_app(app: Flask) -> None:
    from feedback360.accounts.views import bp as accounts
    from feedback360.admin import bp as admin
    from feedback360.coaching.views import bp as coaching
    from feedback360.feedback.approval_views import bp as approvals
    from feedback360.feedback.rater_views import bp as rater
    from feedback360.feedback.views import bp as feedback
    from feedback360.reports.views import bp as reports

    for blueprint in (accounts, admin, approvals, coaching, feedback, rater, reports):
        app.register_blueprint(blueprint)

    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

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
    def csrf_expired(error: CSRFError) -> tuple[str, int]:
        message = "The form had expired. Please go back, reload the page and try again."
        return render_template("error.html", title="Please try again", message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return render_template(
            "error.html", title=error.name, message=error.description, code=code
        ), code

    @app.after_request
    def no_store_on_pages(response: Response) -> Response:
        # Forms and reports hold personal data: keep them out of shared caches.
        if response.mimetype in ("text/html", "application/pdf"):
            response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
