"""One-time "set your password" links: for new people, and resent by an administrator."""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import timedelta

from flask import current_app

from feedback360.accounts import mails
from feedback360.accounts.models import Person
from feedback360.accounts.passwords import check_new_password
from feedback360.accounts.sign_in_methods import password_sign_in_allowed
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.timeutil import utcnow

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(days=7)
# Why a link cannot be used, as the link-problem page explains it.
INVALID, EXPIRED, INACTIVE = "invalid", "expired", "inactive"
SINGLE_SIGN_ON = "single-sign-on"  # they now sign in through the organisation's provider


class LinkProblem(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"This link cannot be used ({reason}).")
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_token(person: Person, lifetime: timedelta = LINK_LIFETIME) -> str:
    """A new 256-bit token for the person, replacing any earlier one; only its hash is kept."""
    if not person.active:
        raise DomainError(f"{person.name} is deactivated; reactivate them first.")
    if not password_sign_in_allowed(person):
        raise DomainError(
            f"{person.name} signs in with their organisation account: with single sign-on, "
            "only administrators keep a password."
        )
    token = secrets.token_urlsafe(32)
    person.password_token_hash = _hash(token)
    person.password_token_expires_at = utcnow() + lifetime
    return token


def password_link(token: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/account/set-password/{token}"


def person_for_token(token: str) -> Person:
    """The person a set-password link belongs to, or LinkProblem saying why it cannot be used."""
    if not token or len(token) > 100:
        raise LinkProblem(INVALID)
    person = db.session.execute(
        db.select(Person).filter_by(password_token_hash=_hash(token))
    ).scalar_one_or_none()
    if person is None:
        raise LinkProblem(INVALID)  # never issued, replaced by a newer link, or already used
    if not person.active:
        raise LinkProblem(INACTIVE)
    if not password_sign_in_allowed(person):
        raise LinkProblem(SINGLE_SIGN_ON)  # a link sent before passwords were switched off
    expires = person.password_token_expires_at
    if expires is None or expires <= utcnow():
        raise LinkProblem(EXPIRED)
    return person


def set_password_with_token(token: str, password: str) -> Person:
    """Set the password and spend the link; any other session of theirs ends."""
    person = person_for_token(token)
    check_new_password(password)
    person.set_password(password)
    person.password_token_hash = None
    person.password_token_expires_at = None
    person.end_sessions()
    return person


def send_password_links(issued: list[tuple[Person, str]]) -> int:
    """Mail each person their link; returns how many could not be sent (resend them later)."""
    failed = 0
    for person, token in issued:
        try:
            mails.send_activation(person, password_link(token), expires=LINK_LIFETIME.days)
        except (OSError, smtplib.SMTPException):
            log.exception("Could not send the set-password link to person %s", person.id)
            failed += 1
    return failed
