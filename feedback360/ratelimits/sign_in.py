"""Failed sign-ins: guessing is slowed, then stopped, yet no stranger can lock anyone out.

Only refused passwords count, each in three counts:

1. Per account *and* address (RATELIMIT_SIGN_IN_PER_ACCOUNT_AND_ADDRESS): once full, that
   address waits before trying that account again. The owner at another address, or at
   this one once the window ends, is not held up.
2. Per address, whichever account (RATELIMIT_SIGN_IN_PER_ADDRESS): stops one address
   trying a password on many accounts.
3. Per account, from anywhere (RATELIMIT_SIGN_IN_PER_ACCOUNT): once full, the account is
   under attack and is slowed, never blocked: each address that fails on it must then wait
   RATELIMIT_SIGN_IN_PAUSE_SECONDS before its next try at that account. An address with no
   failure on it (its owner at their desk) goes straight through.

A sign-in that works clears its account's counts from its address (1 and its pause), so
the owner's own mistakes never add up. Attackers with many addresses each get a few tries
an hour at an account: the password rules and the second factor are the defence there.
The page says how long to wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import user_logged_in
from limits import RateLimitItem, RateLimitItemPerSecond

from feedback360.accounts.signals import sign_in_refused
from feedback360.config import ConfigError
from feedback360.ratelimits.counts import counts, digest, limits_of
from feedback360.ratelimits.refusals import wait_in_words

SIGN_IN = "accounts.sign_in"
PER_ACCOUNT_AND_ADDRESS = "RATELIMIT_SIGN_IN_PER_ACCOUNT_AND_ADDRESS"
PER_ADDRESS = "RATELIMIT_SIGN_IN_PER_ADDRESS"
PER_ACCOUNT = "RATELIMIT_SIGN_IN_PER_ACCOUNT"
PAUSE = "RATELIMIT_SIGN_IN_PAUSE_SECONDS"

TOO_MANY_FOR_ACCOUNT = "There have been too many failed sign-ins to this account from here."
TOO_MANY_FROM_HERE = "There have been too many failed sign-ins from here."
UNDER_ATTACK = (
    "Many wrong passwords have been tried for this account, so after a failed sign-in each "
    "new try from the same place has to wait."
)


@dataclass(frozen=True)
class Attempt:
    """A sign-in to one account (its email as typed) from one address."""

    email: str
    address: str

    @property
    def account(self) -> str:
        return digest(self.email.strip().lower())

    @property
    def pair(self) -> str:
        return digest(f"{self.account} {self.address}")


# What the page says when each count is full (the account's count only starts the pause).
WHY = {
    PER_ACCOUNT_AND_ADDRESS: TOO_MANY_FOR_ACCOUNT,
    PER_ADDRESS: TOO_MANY_FROM_HERE,
    PAUSE: UNDER_ATTACK,
}


def _limits(key: str) -> list[RateLimitItem]:
    if key == PAUSE:
        return [RateLimitItemPerSecond(1, current_app.config[PAUSE])]
    return limits_of(current_app, key)


def _names(attempt: Attempt) -> dict[str, tuple[str, ...]]:
    """The name each count of this attempt is kept under."""
    return {
        PER_ACCOUNT_AND_ADDRESS: ("sign-in", "account-address", attempt.pair),
        PER_ADDRESS: ("sign-in", "address", attempt.address),
        PER_ACCOUNT: ("sign-in", "account", attempt.account),
        PAUSE: ("sign-in", "pause", attempt.pair),
    }


def wait_before(attempt: Attempt) -> tuple[int, str] | None:
    """Seconds this address must wait before trying this account, and why; None: try now."""
    names = _names(attempt)
    for key, why in WHY.items():
        if seconds := counts().wait(_limits(key), *names[key]):
            return seconds, why
    return None


def count_failure(attempt: Attempt) -> None:
    names, counted = _names(attempt), counts()
    for key in (PER_ACCOUNT_AND_ADDRESS, PER_ADDRESS, PER_ACCOUNT):
        counted.hit(_limits(key), *names[key])
    if counted.full(_limits(PER_ACCOUNT), *names[PER_ACCOUNT]):  # under attack: slow this address
        counted.hit(_limits(PAUSE), *names[PAUSE])


def forget_failures(attempt: Attempt) -> None:
    names = _names(attempt)
    for key in (PER_ACCOUNT_AND_ADDRESS, PAUSE):
        counts().clear(_limits(key), *names[key])


def _this_attempt(email: str) -> Attempt:
    return Attempt(email, get_remote_address())


def refuse_while_waiting() -> ResponseReturnValue | None:
    """Before a posted sign-in is checked: the page saying how long to wait, if it must."""
    if request.endpoint != SIGN_IN or request.method != "POST":
        return None
    waiting = wait_before(_this_attempt(request.form.get("email", "")))
    if waiting is None:
        return None
    seconds, why = waiting
    message = f"{why} Please wait {wait_in_words(seconds)}, then try again."
    page = render_template(
        "accounts/sign_in_wait.html", message=message, next_page=request.args.get("next")
    )
    return page, 429, {"Retry-After": str(seconds)}


def _count_refused(app: Flask, email: str, **_: Any) -> None:
    count_failure(_this_attempt(email))


def _forget_on_sign_in(app: Flask, user: Any, **_: Any) -> None:
    forget_failures(_this_attempt(user.email))


def init_app(app: Flask) -> None:
    for key in (PER_ACCOUNT_AND_ADDRESS, PER_ADDRESS, PER_ACCOUNT):
        limits_of(app, key)  # an unreadable setting stops the start, not a sign-in
    pause = app.config[PAUSE]
    if not isinstance(pause, int) or isinstance(pause, bool) or pause < 1:
        raise ConfigError(f"{PAUSE} must be a whole number of seconds, 1 or more")
    app.before_request(refuse_while_waiting)
    sign_in_refused.connect(_count_refused, app)
    user_logged_in.connect(_forget_on_sign_in, app)
