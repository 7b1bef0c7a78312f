"""Importing a staff list: all rows or none; updates by email; leavers deactivated."""

from __future__ import annotations

from dataclasses import dataclass, field

from feedback360.accounts.activation import issue_password_token
from feedback360.accounts.csv_reading import ImportRefused, read_table
from feedback360.accounts.import_rows import PersonRow, check_rows
from feedback360.accounts.models import Person
from feedback360.accounts.sign_in_methods import password_sign_in_allowed
from feedback360.audit.services import record
from feedback360.extensions import db


@dataclass
class ImportOutcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    ignored_headings: list[str] = field(default_factory=list)
    # People to send a set-password link to, with their token: mailed once committed.
    links: list[tuple[Person, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{self.added} added",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{self.reactivated} reactivated",
            f"{self.deactivated} deactivated",
        ]
        return ", ".join(parts)


def import_people(
    data: bytes, filename: str | None = None, *, full_list: bool = False, acting: Person | None
) -> ImportOutcome:
    """Check the whole file, then apply it; ImportRefused lists every bad line otherwise."""
    table = read_table(data, filename)
    known = {person.email: person for person in db.session.scalars(db.select(Person))}
    rows, problems = check_rows(table, known, full_list=full_list, acting=acting)
    if problems:
        raise ImportRefused(problems)
    outcome = ImportOutcome(ignored_headings=table.ignored_headings)
    listed = [row for row in rows if not row.leaver]
    # Those already active, to count who changed; the reactivated are counted apart.
    before = {
        row.email: _details(known[row.email])
        for row in listed
        if row.email in known and known[row.email].active
    }
    people, welcome = _add_or_update(listed, known, outcome)
    for row in listed:
        person = people[row.email]
        person.line_manager = _find(row.manager_email, people, known)
        if "coach" in table.columns:  # without the column, coaches assigned on the pages stay
            person.coach = _find(row.coach_email, people, known)
    outcome.updated = sum(_details(people[email]) != was for email, was in before.items())
    outcome.unchanged = len(before) - outcome.updated
    leavers = [known[row.email] for row in rows if row.leaver and row.email in known]
    if full_list:
        leavers += [person for email, person in known.items() if email not in people]
    for person in leavers:
        if person.active:
            person.deactivate()
            outcome.deactivated += 1
    for person in [*known.values(), *people.values()]:
        if person.coach is not None and not person.coach.is_coach:
            person.coach = None  # someone who lost the coach role no longer coaches anyone
    db.session.flush()
    # With single sign-on only, nobody but administrators is sent a set-password link.
    outcome.links = [
        (person, issue_password_token(person))
        for person in welcome
        if password_sign_in_allowed(person)
    ]
    record("people.import", detail=outcome.summary(), actor=acting)
    return outcome


def _add_or_update(
    rows: list[PersonRow], known: dict[str, Person], outcome: ImportOutcome
) -> tuple[dict[str, Person], list[Person]]:
    """Everyone listed by email, and those to welcome: new, or back without a password."""
    people: dict[str, Person] = {}
    welcome: list[Person] = []
    for row in rows:
        person = known.get(row.email)
        if person is None:
            person = Person(email=row.email, name=row.name, active=True)
            db.session.add(person)
            outcome.added += 1
            welcome.append(person)
        elif not person.active:
            person.reactivate()
            outcome.reactivated += 1
            if person.password_hash is None:
                welcome.append(person)
        person.name = row.name
        person.staff_type = row.staff_type
        person.business_unit = row.business_unit
        person.is_admin = row.is_admin
        person.is_coach = row.is_coach
        people[row.email] = person
    return people, welcome


def _find(email: str | None, people: dict[str, Person], known: dict[str, Person]) -> Person | None:
    if email is None:
        return None
    return people.get(email) or known[email]


def _details(person: Person) -> tuple[object, ...]:
    """What a re-import may change, with links by email so that unsaved people compare too."""
    manager, coach = person.line_manager, person.coach
    return (
        person.name,
        person.staff_type,
        person.business_unit,
        person.is_admin,
        person.is_coach,
        manager.email if manager else None,
        coach.email if coach else None,
    )
