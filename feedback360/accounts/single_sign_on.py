"""Single sign-on's rules: who may sign in through the provider, and as whom."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feedback360.accounts.models import Person
from feedback360.accounts.services import person_by_email
from feedback360.audit.services import record
from feedback360.errors import DomainError
from feedback360.extensions import db

# Why the provider's word was not enough, as the refusal page explains it.
UNKNOWN, DEACTIVATED, LINKED_ELSEWHERE, NO_EMAIL = "unknown", "deactivated", "linked", "no-email"
SUBJECT_LENGTH = 255  # OpenID Connect's limit, and the column's


class SignInRefused(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Single sign-on refused ({reason}).")
        self.reason = reason


def email_in(claims: Mapping[str, Any], email_claim: str) -> str | None:
    """The email address the verified ID token gives, if it gives one it stands behind."""
    email = claims.get(email_claim)
    if not isinstance(email, str) or "@" not in email or not email.isprintable():
        return None
    if email_claim == "email" and claims.get("email_verified") is False:
        return None  # the provider itself says nobody checked it
    return email


def person_signing_in(subject: str, email: str | None) -> Person:
    """The person the provider vouches for: by their subject once linked, otherwise by
    email address (linking the subject). Nobody is created; the deactivated are refused."""
    person = db.session.execute(
        db.select(Person).filter_by(oidc_subject=subject)
    ).scalar_one_or_none()
    if person is None:
        person = person_by_email(email) if email else None
        if person is None or person.is_erased:
            raise SignInRefused(UNKNOWN if email else NO_EMAIL)
        if person.oidc_subject is not None:
            # Someone else at the provider now has this address: the link is not moved.
            raise SignInRefused(LINKED_ELSEWHERE)
        if person.active:
            person.oidc_subject = subject
            record("person.single_sign_on", f"person {person.id}", "linked", actor=person)
    if not person.active:
        raise SignInRefused(DEACTIVATED)
    db.session.flush()
    return person
