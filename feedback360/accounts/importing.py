"""Importing a staff list: all rows or none; updates by email; leavers deactivated.

The rows are checked before the transaction starts, so that on SQLite a job can note its
progress meanwhile (see import_progress); the people and their set-password mail are then
saved in the caller's transaction, and the mail is sent only once that has committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from feedback360.accounts.csv_reading import ImportRefused, read_table
from feedback360.accounts.import_progress import Progress
from feedback360.accounts.import_rows import PersonRow, check_links, in_line_order, parse_rows
from feedback360.accounts.models import CHECKING, QUEUING, SAVING, Person
from feedback360.accounts.sign_in_methods import password_sign_in_allowed
from feedback360.accounts.welcome_mails import queue_set_password_mails
from feedback360.audit.services import record
from feedback360.extensions import db

BATCH = 1000  # people saved at a time, so that PostgreSQL can show the saving's progress


@dataclass
class ImportOutcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    ignored_headings: list[str] = field(default_factory=list)
    # The set-password mail queued for new people: sent once the import has committed.
    mail_ids: list[int] = field(default_factory=list)

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
    data: bytes,
    filename: str | None = None,
    *,
    full_list: bool = False,
    acting_id: int | None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Check the whole file, then apply it as the person `acting_id` (None: a command);
    ImportRefused lists every bad line otherwise.

    Call it with no transaction open: it checks the rows before it reads the database.
    """
    progress = progress or Progress(None)
    table = read_table(data, filename)
    progress.phase(CHECKING, len(table.records))
    rows, problems = parse_rows(table, progress.rows)
    listed = [row for row in rows if not row.leaver]
    progress.phase(SAVING, len(listed), counted=progress.counts_while_saving)
    known = {person.email: person for person in db.session.scalars(db.select(Person))}
    acting = db.session.get(Person, acting_id) if acting_id is not None else None
    problems += check_links(rows, known, full_list=full_list, acting=acting)
    if problems:
        raise ImportRefused(in_line_order(problems))
    outcome = ImportOutcome(ignored_headings=table.ignored_headings)
    # Those already active, to count who changed; the reactivated are counted apart.
    before = {
        row.email: _details(known[row.email])
        for row in listed
        if row.email in known and known[row.email].active
    }
    people, welcome = _add_or_update(listed, known, outcome, progress)
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
    # With single sign-on only, nobody but administrators is sent a set-password link.
    welcome = [person for person in welcome if password_sign_in_allowed(person)]
    if progress.counts_while_saving:
        progress.phase(QUEUING, len(welcome))
    # Managers, coaches and links are written together, one UPDATE for each person.
    with db.session.no_autoflush:
        outcome.mail_ids = queue_set_password_mails(
            welcome, lambda done: progress.rows(done, saving=True)
        )
    record("people.import", detail=outcome.summary(), actor=acting)
    db.session.flush()
    return outcome


def _add_or_update(
    rows: list[PersonRow], known: dict[str, Person], outcome: ImportOutcome, progress: Progress
) -> tuple[dict[str, Person], list[Person]]:
    """Everyone listed by email, and those to welcome: new, or back without a password."""
    people: dict[str, Person] = {}
    welcome: list[Person] = []
    for done, row in enumerate(rows, start=1):
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
        if done % BATCH == 0 or done == len(rows):
            db.session.flush()  # the new people get their ids, for their mail
            progress.rows(done, saving=True)
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
