"""Rate limits on the doors a guesser would try: sign-in and the personal links.

Each limit counts what a guesser needs and a real person rarely does, so that no stranger
can shut anyone out: failed sign-ins per account and address together (`sign_in`), unknown
links per address and requests per link (`links`). Counts live in RATELIMIT_STORAGE_URI:
memory by default, Redis when several workers must share them (`workers` refuses to start
several gunicorn workers on memory counts unless told to).
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from feedback360.ratelimits import links, sign_in
from feedback360.ratelimits.counts import EXTENSION, Counts
from feedback360.ratelimits.refusals import TOO_MANY, TOO_MANY_SAVES, too_many_requests

__all__ = ["TOO_MANY", "TOO_MANY_SAVES", "init_app"]


def init_app(app: Flask) -> None:
    """One limiter per app, so that two apps in one process keep their own counts."""
    if not app.config["RATELIMIT_ENABLED"]:
        return
    limiter = Limiter(get_remote_address)
    limiter.init_app(app)
    app.extensions[EXTENSION] = Counts(limiter, str(app.config["RATELIMIT_KEY_PREFIX"]))
    links.init_app(app, limiter)
    sign_in.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
