"""Finding, listing and adding people, and checking their passwords."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_

from feedback360.accounts.models import Person
from feedback360.accounts.passwords import check_new_password, password_matches
from feedback360.accounts.sign_in_methods import password_sign_in_allowed
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
    if person is None:
        password_matches(None, password)  # as slow as a wrong password: nobody learns who is here
        return None
    if not person.check_password(password) or not person.active:
        return None
    if not password_sign_in_allowed(person):
        return None  # single sign-on only: their password, if they had one, is no way in
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
    if password:
        check_new_password(password)
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


PEOPLE_PER_PAGE = 50


def find_people(text: str = "", business_unit: str = "", page: int = 1) -> Pagination:
    """People whose name or email holds the text, in a business unit if given, by name."""
    query = db.select(Person).order_by(Person.name, Person.id)
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        query = query.where(
            or_(
                func.lower(Person.name).like(pattern, escape="\\"),
                Person.email.like(pattern, escape="\\"),
            )
        )
    if business_unit:
        query = query.filter_by(business_unit=business_unit)
    # A page past the last shows the last: a number too large for the database never reaches it.
    total = db.session.scalar(db.select(func.count()).select_from(query.subquery())) or 0
    last_page = max(1, -(-total // PEOPLE_PER_PAGE))
    page = min(max(page, 1), last_page)
    return db.paginate(query, page=page, per_page=PEOPLE_PER_PAGE, error_out=False)


def _escape_like(text: str) -> str:
    # So that "%" and "_" typed in a search match themselves.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def business_units() -> list[str]:
    query = db.select(Person.business_unit).where(Person.business_unit.is_not(None)).distinct()
    return sorted(db.session.scalars(query))
