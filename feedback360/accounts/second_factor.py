"""A second factor for the people who can read everyone's reports or debriefs:
administrators and coaches who sign in with a password.

Codes come from an authenticator app (TOTP, RFC 6238: six digits, a new one every 30
seconds), set up by scanning a QR code. Each code works once: the last time step used is
kept. Ten recovery codes, shown once at set-up and kept only as hashes, stand in for a lost
phone; each works once. An administrator can clear someone's second factor, and they set
it up again at their next sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg
from markupsafe import Markup

from feedback360.accounts.models import Person
from feedback360.errors import DomainError
from feedback360.timeutil import utcnow

ISSUER = "feedback360"
RECOVERY_CODES = 10
# A code typed as the 30 seconds turn over is still taken: one step either side.
STEPS_EITHER_SIDE = 1
WRONG_CODE = "That code is not right. Type the six digits your app shows now, or a recovery code."
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def required_for(person: Person) -> bool:
    return person.is_admin or person.is_coach


def is_set_up(person: Person) -> bool:
    return person.totp_secret is not None


def new_secret() -> str:
    return pyotp.random_base32()


def qr_code(person: Person, secret: str) -> Markup:
    """The set-up link as an SVG QR code, to scan with an authenticator app."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=person.email, issuer_name=ISSUER)
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    label = '<svg role="img" aria-label="QR code to scan with your authenticator app" '
    return Markup(svg.replace("<svg ", label, 1))  # noqa: S704 (made here, not from input)


def set_up(person: Person, secret: str, code: str, *, now: datetime | None = None) -> list[str]:
    """Keep the secret once a code from it proves the app has it; returns the new recovery
    codes, to be shown once."""
    step = _matching_step(secret, code, after=None, now=now)
    if step is None:
        raise DomainError(WRONG_CODE, "code")
    person.totp_secret = secret
    person.totp_last_step = step
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    person.recovery_code_hashes = " ".join(_digest(code) for code in codes)
    return codes


def check(person: Person, code: str, *, now: datetime | None = None) -> None:
    """Accept a current code not used before, or an unused recovery code (spent now)."""
    if person.totp_secret is None:
        raise DomainError("There is no second factor to check.", "code")
    typed = "".join(code.split()).lower()
    if len(typed) == 6 and typed.isdigit():
        step = _matching_step(person.totp_secret, typed, after=person.totp_last_step, now=now)
        if step is None:
            raise DomainError(WRONG_CODE, "code")
        person.totp_last_step = step
        return
    remaining = (person.recovery_code_hashes or "").split()
    digest = _digest(typed.replace("-", ""))
    if digest not in remaining:
        raise DomainError(WRONG_CODE, "code")
    remaining.remove(digest)
    person.recovery_code_hashes = " ".join(remaining)


def recovery_codes_left(person: Person) -> int:
    return len((person.recovery_code_hashes or "").split())


def clear(person: Person) -> None:
    """Forget their second factor (a lost phone): they set it up again at the next sign-in."""
    person.totp_secret = person.totp_last_step = person.recovery_code_hashes = None


def _matching_step(
    secret: str, code: str, *, after: int | None, now: datetime | None
) -> int | None:
    """The time step whose code this is, near now and later than `after`, or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in range(current - STEPS_EITHER_SIDE, current + STEPS_EITHER_SIDE + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_code() -> str:
    letters = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


def _digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").encode()).hexdigest()
