"""Personal links (a rater's, a set-password one): guessing them is refused, using them never.

Unknown links are counted per address (RATELIMIT_UNKNOWN_LINKS_PER_ADDRESS), and only
they: past the limit an unknown link gets the "please wait" page instead of "not found",
while a real link from the same address (everyone behind one office proxy) opens as
always. Each real link also has its own allowance (RATELIMIT_PER_LINK), which stops one
link being hammered, never a rater clicking through their form.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from feedback360.ratelimits.counts import counts, digest, limits_of
from feedback360.ratelimits.refusals import too_many_requests

RATER_PAGES = "rater"  # the blueprint of every page under /r/
SET_PASSWORD = "accounts.set_password"  # noqa: S105  (an endpoint)
UNKNOWN_LINKS = "RATELIMIT_UNKNOWN_LINKS_PER_ADDRESS"
FORGOT = "passwords.forgot"
PASSWORD_LINKS = "RATELIMIT_PASSWORD_LINKS_PER_ADDRESS"  # noqa: S105  (a setting)


def _token() -> str | None:
    return (request.view_args or {}).get("token")


def link_key() -> str:
    return "link:" + digest(_token() or "")


def _on_a_link_page() -> bool:
    return request.blueprint == RATER_PAGES or request.endpoint == SET_PASSWORD


def refuse_guessers(response: Response) -> Response:
    """After a link page answers "not found": count it, and past the limit, say wait."""
    if response.status_code != 404 or not _on_a_link_page():
        return response
    if counts().hit(limits_of(current_app, UNKNOWN_LINKS), "unknown-link", get_remote_address()):
        return response
    return current_app.make_response(too_many_requests())


def _setting(key: str) -> Callable[[], str]:
    return lambda: str(current_app.config[key])


def init_app(app: Flask, limiter: Limiter) -> None:
    limits_of(app, UNKNOWN_LINKS)  # an unreadable setting stops the start
    limits_of(app, PASSWORD_LINKS)
    # "Forgot your password?" mails a link: a few an hour from one address, so that nobody
    # fills another's inbox (accounts.password_changes also sends one an account in ten
    # minutes at most).
    asking = limiter.limit(_setting(PASSWORD_LINKS), methods=["POST"])
    app.view_functions[FORGOT] = asking(app.view_functions[FORGOT])
    # Shared pages under /r/ (thanks, declined) carry no link and are not counted.
    per_link = limiter.limit(
        _setting("RATELIMIT_PER_LINK"), key_func=link_key, exempt_when=lambda: not _token()
    )
    per_link(app.blueprints[RATER_PAGES])
    app.view_functions[SET_PASSWORD] = per_link(app.view_functions[SET_PASSWORD])
    app.after_request(refuse_guessers)
