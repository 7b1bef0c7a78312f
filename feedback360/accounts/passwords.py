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

# Every new password, from the set-password page or the command line, keeps to these.
MIN_LENGTH = 10
MAX_LENGTH = 200
LENGTH_RULE = f"Use between {MIN_LENGTH} and {MAX_LENGTH} characters."


def check_new_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise DomainError(LENGTH_RULE, "password")


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
