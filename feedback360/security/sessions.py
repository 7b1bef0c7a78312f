"""Session cookies and their life: a fresh session at sign-in, idle and absolute time-outs,
and the time left told to each signed-in page (static/session_timeout.js warns before it)."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, current_app, flash, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import logout_user, user_logged_in
from werkzeug.exceptions import HTTPException

from feedback360.accounts.local_paths import local_path

SIGNED_IN_AT, LAST_SEEN = "signed_in_at", "last_seen"
HOST_PREFIX = "__Host-"
# What Flask-Login writes at sign-in; everything else in the session is from before it.
SIGN_IN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")
# Writing the time on every request would re-send the cookie each time; a minute is enough.
LAST_SEEN_RESOLUTION = 60
TIMED_OUT = "You were signed out because you had been away for a while. Please sign in again."
# After a post (a form's button) met a session that had timed out: it was not stored.
TIMED_OUT_UNSAVED = (
    "You were signed out because you had been away for a while, so what you sent last was not"
    " saved. Please sign in again: you are then taken back to the same page, where the rating"
    " pages put back the answers this browser kept, for you to check and save."
)
# How long each page has left, in seconds, told to the page's script (session_timeout.js).
IDLE_LEFT_HEADER, MOST_LEFT_HEADER = "X-Session-Idle-Left", "X-Session-Most-Left"
# The warning comes this long before the idle time-out (at most half the idle time).
WARN_BEFORE_SECONDS = 5 * 60
# Asking how long is left (the page's script does, before it warns) is not activity.
ONLY_ASKING = frozenset({"sessions.time_left"})
# Autosave and the keep-alive call send this header; they are answered in JSON, not redirected.
FETCH_HEADER = ("X-Requested-With", "fetch")


def configure_cookies(app: Flask) -> None:
    """HttpOnly and SameSite=Lax always; over HTTPS (BASE_URL), Secure and the __Host- prefix.

    A __Host- cookie is taken by browsers only if Secure, for the path / and with no
    domain, so no other host (a neighbouring subdomain) can set or overwrite it. The
    remember cookie is not used (sign-in never asks for it) but is held to the same rule.
    """
    secure = str(app.config["BASE_URL"]).startswith("https://")
    for cookie, name in (("SESSION_COOKIE", "session"), ("REMEMBER_COOKIE", "remember_token")):
        app.config[f"{cookie}_HTTPONLY"] = True
        app.config[f"{cookie}_SAMESITE"] = "Lax"
        app.config[f"{cookie}_SECURE"] = secure
        if secure:
            app.config[f"{cookie}_NAME"] = HOST_PREFIX + name
            app.config[f"{cookie}_PATH"] = "/"
            app.config[f"{cookie}_DOMAIN"] = None


def start_fresh_session(_app: Flask, **_: Any) -> None:
    """On every sign-in, drop whatever the browser's session held before (session fixation)."""
    kept = {key: session[key] for key in SIGN_IN_KEYS if key in session}
    session.clear()
    session.update(kept)
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN] = now


def end_session() -> None:
    logout_user()
    session.clear()


def _timed_out(now: int, idle_minutes: float, max_hours: float) -> bool:
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen = session.get(LAST_SEEN)
    if not isinstance(signed_in_at, int) or not isinstance(last_seen, int):
        return True  # a session without its times cannot be trusted to be recent
    return now - last_seen > idle_minutes * 60 or now - signed_in_at > max_hours * 3600


def wants_json() -> bool:
    """Whether the page's script sent this request (autosave, keep-alive), not the browser."""
    return request.headers.get(FETCH_HEADER[0]) == FETCH_HEADER[1]


def page_to_return_to() -> str | None:
    """The page to come back to after signing in again: this address when it is a page
    (a post to a rating page is; a post to a button's own address is not, then None)."""
    if request.method == "GET":
        return local_path(request.full_path.rstrip("?"))
    try:
        current_app.url_map.bind_to_environ(request.environ).match(request.path, method="GET")
    except HTTPException:
        return None
    return local_path(request.path)


def signed_out_reply(message: str) -> ResponseReturnValue:
    """For a page's script: 401 and why (the script knows its page and where to sign in)."""
    return jsonify(error=message, signed_out=True), 401


def end_if_timed_out() -> ResponseReturnValue | None:
    """End a signed-in session that was idle too long or is too old, saying so; else note
    the visit (every request counts as activity, the page's script's included)."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    now = int(time.time())
    idle, most = current_app.config["SESSION_IDLE_MINUTES"], current_app.config["SESSION_MAX_HOURS"]
    if not _timed_out(now, float(idle), float(most)):
        recent = now - session[LAST_SEEN] < LAST_SEEN_RESOLUTION
        if not recent and request.endpoint not in ONLY_ASKING:
            session[LAST_SEEN] = now
        return None
    end_session()
    if wants_json():  # autosave: say it, don't redirect
        return signed_out_reply("you were signed out; please sign in again.")
    flash(TIMED_OUT if request.method == "GET" else TIMED_OUT_UNSAVED, "info")
    return redirect(url_for("accounts.sign_in", next=page_to_return_to()))


def renew() -> None:
    """The person asked to stay signed in: count now as their last activity."""
    if "_user_id" in session:
        session[LAST_SEEN] = int(time.time())


def time_left() -> tuple[int, int] | None:
    """Seconds until the idle time-out and until the longest session ends; None if not signed in."""
    last_seen, signed_in_at = session.get(LAST_SEEN), session.get(SIGNED_IN_AT)
    times_known = isinstance(last_seen, int) and isinstance(signed_in_at, int)
    if "_user_id" not in session or not times_known:
        return None
    now = int(time.time())
    idle = int(float(current_app.config["SESSION_IDLE_MINUTES"]) * 60) - (now - last_seen)
    most = int(float(current_app.config["SESSION_MAX_HOURS"]) * 3600) - (now - signed_in_at)
    return max(idle, 0), max(most, 0)


def warn_before() -> int:
    """Seconds ahead of the idle time-out that the page warns."""
    idle_seconds = int(float(current_app.config["SESSION_IDLE_MINUTES"]) * 60)
    return min(WARN_BEFORE_SECONDS, idle_seconds // 2)


def tell_time_left(response: Response) -> Response:
    """Every signed-in answer says how long the session has left, so the page's script can
    restart its count after any request it makes (an autosave, a keep-alive)."""
    left = time_left() if request.endpoint != "static" else None
    if left is not None:
        response.headers[IDLE_LEFT_HEADER], response.headers[MOST_LEFT_HEADER] = map(str, left)
    return response


def init_app(app: Flask) -> None:
    configure_cookies(app)
    user_logged_in.connect(start_fresh_session, app)
    app.before_request(end_if_timed_out)
    app.after_request(tell_time_left)
    app.jinja_env.globals.update(session_time_left=time_left, session_warn_before=warn_before)
