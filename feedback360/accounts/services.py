"""Finding and adding people, and checking their passwords."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from feedback360.accounts.models import Person
from feedback360.errors import DomainError
from feedback360.extensions import db


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise DomainError(f"“{email}” is not a valid email address: {error}", "email") from error


def person_by_email(email: str) -> Person | None:
    return db.session.execute(
        db.select(Person).filter_by(email=email.strip().lower())
    ).scalar_one_or_none()


def authenticate(email: str, password: str) -> Person | None:
    """The active person with this email and password, or None (never saying which was wrong)."""
    person = person_by_email(email)
    if person is None or not person.active or not person.check_password(password):
        return None
    return person


def add_person(
    name: str,
    email: str,
    *,
    password: str | None = None,
    is_admin: bool = False,
    is_coach: bool = False,
    staff_type: str | None = None,
    business_unit: str | None = None,
    line_manager: Person | None = None,
) -> Person:
    """Create a person; refuses a blank name, a bad email or one already in use."""
    if not name.strip():
        raise DomainError("A name is needed.", "name")
    email = normalise_email(email)
    if person_by_email(email) is not None:
        raise DomainError(f"{email} is already registered.", "email")
    person = Person(
        name=name.strip(),
        email=email,
        is_admin=is_admin,
        is_coach=is_coach,
        staff_type=staff_type,
        business_unit=business_unit,
        line_manager=line_manager,
    )
    if password:
        person.set_password(password)
    db.session.add(person)
    db.session.flush()
    return person
