"""What an administrator does to one person: coach, roles, deactivation, set-password links."""

from __future__ import annotations

from feedback360.accounts import second_factor
from feedback360.accounts.activation import issue_password_token
from feedback360.accounts.models import Person
from feedback360.audit.services import record
from feedback360.errors import DomainError
from feedback360.extensions import db


def _target(person: Person) -> str:
    return f"person {person.id}"  # ids only: the log outlives an erasure


def _refuse_erased(person: Person) -> None:
    if person.is_erased:
        raise DomainError("This person’s data was erased; nothing more can be changed.")


def active_coaches(excluding: Person | None = None) -> list[Person]:
    query = db.select(Person).filter_by(is_coach=True, active=True).order_by(Person.name)
    return [c for c in db.session.scalars(query) if excluding is None or c.id != excluding.id]


def assign_coach(person: Person, coach: Person | None, *, acting: Person) -> None:
    """Give the person a coach (an active coach, not themselves), or none."""
    _refuse_erased(person)
    if coach is not None and (coach.id == person.id or not (coach.is_coach and coach.active)):
        raise DomainError("Choose one of the active coaches.", "coach")
    person.coach = coach
    record(
        "person.coach",
        _target(person),
        f"coach: {_target(coach) if coach else 'none'}",
        actor=acting,
    )


def set_roles(person: Person, *, admin: bool, coach: bool, acting: Person) -> int:
    """Change the roles; returns how many coachees lost their coach with the coach role."""
    _refuse_erased(person)
    if person.id == acting.id and not admin:
        raise DomainError("You cannot remove your own administrator role.", "admin")
    person.is_admin, person.is_coach = admin, coach
    released = 0
    if not coach:
        for coachee in db.session.scalars(db.select(Person).filter_by(coach_id=person.id)):
            coachee.coach = None
            released += 1
    roles = ", ".join(r for r, on in (("admin", admin), ("coach", coach)) if on) or "staff"
    record("person.roles", _target(person), f"roles: {roles}", actor=acting)
    return released


def deactivate(person: Person, *, acting: Person) -> None:
    """They can no longer sign in and their open sessions end; their history stays."""
    _refuse_erased(person)
    if person.id == acting.id:
        raise DomainError("You cannot deactivate yourself.")
    person.deactivate()
    record("person.deactivate", _target(person), actor=acting)


def clear_second_factor(person: Person, *, acting: Person) -> None:
    """A lost phone and no recovery code left: they set the app up again at the next sign-in
    (with their password, so a stolen phone alone still signs nobody in)."""
    if not second_factor.is_set_up(person):
        raise DomainError(f"{person.name} has no second factor set up.")
    second_factor.clear(person)
    person.end_sessions()
    record("person.second_factor_clear", _target(person), actor=acting)


def reactivate(person: Person, *, acting: Person) -> None:
    person.reactivate()
    record("person.reactivate", _target(person), actor=acting)


def new_password_link(person: Person, *, acting: Person) -> str:
    """A fresh set-password token (the previous link stops working), to mail once committed."""
    _refuse_erased(person)
    token = issue_password_token(person)
    record("person.password_link", _target(person), actor=acting)
    return token
