"""What a visitor who must wait is told: the page (or the autosave's answer) and how long."""

from __future__ import annotations

import math

from flask import jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded

TOO_MANY = (
    "There have been too many attempts from here in a short time. "
    "Please wait a few minutes, then try again."
)
TOO_MANY_SAVES = "too many saves in a short time. Wait a minute, then use the Save button."


def too_many_requests(error: RateLimitExceeded | None = None) -> ResponseReturnValue:
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify(error=TOO_MANY_SAVES), 429
    page = render_template("error.html", title="Please wait a few minutes", message=TOO_MANY)
    return page, 429


def wait_in_words(seconds: int) -> str:
    """ "30 seconds", "4 minutes", "2 hours": never less than the real wait."""
    if seconds <= 90:
        return _plural(max(1, seconds), "second")
    if seconds <= 90 * 60:
        return _plural(math.ceil(seconds / 60), "minute")
    return _plural(math.ceil(seconds / 3600), "hour")


def _plural(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"
