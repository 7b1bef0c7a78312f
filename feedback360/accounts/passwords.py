"""Password hashing, with the method the configuration names (memory-hard scrypt by default)."""

from __future__ import annotations

import secrets
from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from feedback360.errors import DomainError

# werkzeug's scrypt: 2**15 rounds, block size 8, about 0.1 s a hash. Tests name a cheap
# method instead (as Django's test settings do); a test keeps this default slow.
DEFAULT_METHOD = "scrypt:32768:8:1"

# Every new password, from any page or the command line, keeps to these (NIST SP 800-63B:
# length, and not one that guessers try first; no rules about kinds of character).
MIN_LENGTH = 12
MAX_LENGTH = 200
LENGTH_RULE = f"Use between {MIN_LENGTH} and {MAX_LENGTH} characters."
PASSWORD_HINT = (
    f"At least {MIN_LENGTH} characters, and not one of the most common passwords. A few "
    "unrelated words make a strong password that is easy to remember."
)
COMMON_RULE = (
    "That password is one of the most common, so it is among the first a guesser tries. "
    "Choose another: a few unrelated words make a good one."
)
# What people add to a common password to pass a length rule: "password1234!".
_PADDING = "0123456789!?.,-_*#@$ "
_RUNS = "0123456789" * 21 + "abcdefghijklmnopqrstuvwxyz" * 8 + "qwertyuiop" * 20


def check_new_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise DomainError(LENGTH_RULE, "password")
    if is_common(password):
        raise DomainError(COMMON_RULE, "password")


def is_common(password: str) -> bool:
    """Among the 30,000 most common passwords (zxcvbn's list), as typed or padded out."""
    lowered = password.lower()
    common = _common_passwords()
    bare = lowered.rstrip(_PADDING)
    return (
        lowered in common
        or (len(bare) >= 4 and bare in common)
        or len(set(lowered)) < 4  # aaaaaaaaaaaa, abababababab
        or lowered in _RUNS
        or lowered in _RUNS[::-1]
    )


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # 800 kB: only when a password is set

    return frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when the password is the one hashed; without a hash, as slow as a real check."""
    if not password_hash:
        check_password_hash(_stand_in_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(password_hash, password)


@cache
def _stand_in_hash(method: str) -> str:
    # Checked when nobody has the email (or no password yet), so that an unknown address takes
    # as long to refuse as a wrong password: the time taken must not tell who has an account.
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def check_method(method: object) -> None:
    """Raise ValueError unless werkzeug can hash with this method."""
    if not isinstance(method, str):
        raise ValueError("it must be a string such as 'scrypt:32768:8:1'")
    generate_password_hash("", method=method)
