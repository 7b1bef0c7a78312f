"""A form posted with an expired or missing CSRF token: nothing is stored, nothing is lost.

A signed-in session that had timed out ends as any other request would (sign in again, then
back to the same page). The rating pages (views marked `forms.kept_when_expired`) are shown again
with what was posted, why nothing was saved, and a fresh token, so the same button saves it
next time; their autosave hears the reason, with the fresh token in X-CSRF-Token, and tries
again. Any other form: a page saying to go back and reload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf

from feedback360.forms import KEPT_WHEN_EXPIRED, REQUEST_FLAG
from feedback360.security import sessions

TOKEN_HEADER = "X-CSRF-Token"  # noqa: S105  (a header's name, not a secret)
EXPIRED_ELSEWHERE = "The form had expired. Please go back, reload the page and try again."
# Flask-WTF's check of the token, the first of the app's before_request functions.
CSRF_CHECK = ("flask_wtf.csrf", "csrf_protect")


def reply(error: CSRFError) -> ResponseReturnValue:
    """What a post with a token that cannot be used is answered."""
    try:
        stopped = _checks_after_the_token()
        if stopped is not None:
            return stopped
        view = current_app.view_functions.get(request.endpoint or "")
        if request.method == "POST" and getattr(view, KEPT_WHEN_EXPIRED, False):
            return _shown_again(view)
    except Exception as exc:  # a limit met, an unusable link: the page it has of its own
        return current_app.handle_user_exception(exc)
    if sessions.wants_json():
        return jsonify(error="the page had expired; please reload it and try again."), 400
    return render_template("error.html", title="Please try again", message=EXPIRED_ELSEWHERE), 400


def _checks_after_the_token() -> ResponseReturnValue | None:
    """The checks every request meets, which the token's check (the first) stopped before:
    the session's time-outs, rate limits on links and sign-ins, characters refused."""
    for name in (None, *reversed(request.blueprints)):
        for check in current_app.before_request_funcs.get(name, ()):
            if check.__module__ == CSRF_CHECK[0] and check.__name__ == CSRF_CHECK[1]:
                continue
            stopped = check()
            if stopped is not None:
                return stopped
    return None


def _shown_again(view: Callable[..., Any]) -> Response:
    setattr(g, REQUEST_FLAG, True)
    response = current_app.make_response(view(**(request.view_args or {})))
    response.headers[TOKEN_HEADER] = generate_csrf()
    return response
