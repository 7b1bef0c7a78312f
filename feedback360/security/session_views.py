"""Asked by the page's script (static/session_timeout.js): how long the session has left,
and "Stay signed in", which renews it without reloading the page."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from flask_login import login_required
from flask_wtf.csrf import generate_csrf

from feedback360.security import sessions

bp = Blueprint("sessions", __name__, url_prefix="/session")


@bp.get("/keep-alive")
@login_required
def time_left() -> ResponseReturnValue:
    """The time left, and this session's form token: after signing in again in another tab,
    the page's forms take it, so what is on the page can still be sent."""
    idle_left, most_left = sessions.time_left() or (0, 0)
    return jsonify(idle_left=idle_left, most_left=most_left, csrf_token=generate_csrf())


@bp.post("/keep-alive")
@login_required
def keep_alive() -> ResponseReturnValue:
    """Stay signed in: now counts as the person's last activity (the time left is in the
    answer's headers, as on every signed-in answer)."""
    sessions.renew()
    return "", 204
