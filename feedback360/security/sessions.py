"""Session cookies and their life: a fresh session at sign-in, idle and absolute time-outs."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, flash, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import logout_user, user_logged_in

SIGNED_IN_AT, LAST_SEEN = "signed_in_at", "last_seen"
HOST_PREFIX = "__Host-"
# What Flask-Login writes at sign-in; everything else in the session is from before it.
SIGN_IN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")
# Writing the time on every request would re-send the cookie each time; a minute is enough.
LAST_SEEN_RESOLUTION = 60
TIMED_OUT = "You were signed out because you had been away for a while. Please sign in again."


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


def init_app(app: Flask) -> None:
    configure_cookies(app)
    user_logged_in.connect(start_fresh_session, app)

    @app.before_request
    def end_old_sessions() -> ResponseReturnValue | None:
        if request.endpoint == "static" or "_user_id" not in session:
            return None
        now = int(time.time())
        idle, most = app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"]
        if not _timed_out(now, float(idle), float(most)):
            if now - session[LAST_SEEN] >= LAST_SEEN_RESOLUTION:
                session[LAST_SEEN] = now
            return None
        end_session()
        if request.headers.get("X-Requested-With") == "fetch":  # autosave: say it, don't redirect
            return jsonify(error="you were signed out; please sign in again."), 401
        flash(TIMED_OUT, "info")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("accounts.sign_in", next=target))
