"""Rate limits on the doors a guesser would try: sign-in and the personal links.

Each limit counts what a guesser needs and a real person rarely does: failed sign-ins per
account and per address, unknown links per address, and requests per link (which stops one
link being hammered, never a rater clicking through their form). Counts live in
RATELIMIT_STORAGE_URI: memory by default, Redis when several workers must share them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage
from werkzeug.wrappers import Response

TOO_MANY = (
    "There have been too many attempts from here in a short time. "
    "Please wait a few minutes, then try again."
)
TOO_MANY_SAVES = "too many saves in a short time. Wait a minute, then use the Save button."


class LockedMemoryStorage(MemoryStorage):
    """limits' memory storage, its sweep of expired counts started under a lock, once a second.

    limits 5.8 checks and restarts its sweep timer without a lock, so two worker threads
    counting at once can start the same timer twice and one dies with a traceback (fixed
    upstream after 5.8, in limits pull request 352). It also starts a new thread every
    10 ms while requests arrive, a few milliseconds of every request; counts are checked
    against their expiry when read, so the sweep only frees memory and can wait a second.
    Registered for "memory://" in its place.
    """

    STORAGE_SCHEME = ["memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _MemoryStorage__schedule_expiry(self) -> None:  # the name limits calls it by
        with self._timer_lock:
            if self.timer.is_alive():
                return
            sweep = self._MemoryStorage__expire_events  # type: ignore[attr-defined]
            self.timer = threading.Timer(self.SWEEP_SECONDS, sweep)
            self.timer.daemon = True  # never keeps a stopping worker waiting
            self.timer.start()


def _digest(text: str) -> str:
    # Counters are named by a hash: a token or an email address never reaches the store.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def account_key() -> str:
    return "account:" + _digest(request.form.get("email", "").strip().lower())


def link_key() -> str:
    """The personal link in the address; pages without one count by address."""
    token = (request.view_args or {}).get("token")
    return "link:" + _digest(token) if token else "address:" + get_remote_address()


def _setting(key: str) -> Callable[[], str]:
    return lambda: str(current_app.config[key])


def _failed(response: Response) -> bool:
    # A sign-in that worked redirects; a refused one shows the form again.
    return response.status_code not in (302, 303)


def _unknown_link(response: Response) -> bool:
    return response.status_code == 404


def too_many_requests(error: RateLimitExceeded) -> ResponseReturnValue:
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify(error=TOO_MANY_SAVES), 429
    page = render_template("error.html", title="Please wait a few minutes", message=TOO_MANY)
    return page, 429


def init_app(app: Flask) -> None:
    """One limiter per app, so that two apps in one process keep their own counts."""
    if not app.config["RATELIMIT_ENABLED"]:
        return
    limiter = Limiter(get_remote_address)
    limiter.init_app(app)
    app.extensions["feedback360.limiter"] = limiter  # the limits below hold it only weakly
    unknown_links = limiter.shared_limit(
        _setting("RATELIMIT_UNKNOWN_LINKS_PER_ADDRESS"),
        scope="unknown-link",
        deduct_when=_unknown_link,
    )
    per_link = limiter.limit(_setting("RATELIMIT_PER_LINK"), key_func=link_key)

    rater = app.blueprints["rater"]
    unknown_links(rater)
    per_link(rater)

    views = app.view_functions
    sign_in = views["accounts.sign_in"]
    for limit in (
        limiter.limit(
            _setting("RATELIMIT_SIGN_IN_PER_ACCOUNT"),
            key_func=account_key,
            methods=["POST"],
            deduct_when=_failed,
        ),
        limiter.limit(
            _setting("RATELIMIT_SIGN_IN_PER_ADDRESS"), methods=["POST"], deduct_when=_failed
        ),
    ):
        sign_in = limit(sign_in)
    views["accounts.sign_in"] = sign_in
    views["accounts.set_password"] = per_link(unknown_links(views["accounts.set_password"]))

    app.register_error_handler(RateLimitExceeded, too_many_requests)
