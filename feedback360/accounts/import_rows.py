"""Checking a staff list row by row, against itself and the people already known."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from feedback360.accounts.csv_reading import Table
from feedback360.accounts.models import Person
from feedback360.accounts.services import normalise_email
from feedback360.errors import DomainError

ROLE_NAMES: dict[str, str | None] = {
    "admin": "admin",
    "administrator": "admin",
    "coach": "coach",
    "staff": None,
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}
LIMITS = {"name": 200, "staff_type": 100, "business_unit": 200}
LABELS = {"name": "name", "staff_type": "staff type", "business_unit": "business unit"}
PROGRESS_EVERY = 500  # rows between calls of a progress function


@dataclass
class PersonRow:
    """One person as the file describes them, checked."""

    line: int
    name: str
    email: str
    staff_type: str
    business_unit: str
    manager_email: str | None
    is_admin: bool
    is_coach: bool
    coach_email: str | None
    leaver: bool


def parse_rows(
    table: Table, progress: Callable[[int], None] | None = None
) -> tuple[list[PersonRow], list[str]]:
    """The rows that are well formed, each person once, and the problems of the rows alone.

    Needs no database: the slow part of checking (every email address), which a job does
    before its transaction starts, calling `progress` with the number of rows read so far.
    """
    problems = list(table.problems)
    rows: list[PersonRow] = []
    first_line: dict[str, int] = {}
    for done, record in enumerate(table.records, start=1):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
        row, row_problems = _parse(record.line, record.cells)
        problems += row_problems
        if row is None:
            continue
        if row.email in first_line:
            problems.append(
                f"Line {row.line}: {row.email} is also on line {first_line[row.email]}; "
                "each person may appear once."
            )
            continue
        first_line[row.email] = row.line
        rows.append(row)
    if progress is not None:
        progress(len(table.records))
    return rows, problems


def check_links(
    rows: list[PersonRow], known: dict[str, Person], *, full_list: bool, acting: Person | None
) -> list[str]:
    """The problems that depend on who is known already: managers, coaches, the importer."""
    problems: list[str] = []
    by_email = {row.email: row for row in rows}
    for row in rows:
        problems += _check_links(row, by_email, known, full_list=full_list)
    if acting is not None:
        problems += _check_acting(acting, by_email, full_list=full_list)
    return problems


def in_line_order(problems: list[str]) -> list[str]:
    """The problems as a spreadsheet lists its lines (those of no line first)."""
    return sorted(problems, key=_line_of)


def _parse(line: int, cells: dict[str, str]) -> tuple[PersonRow | None, list[str]]:
    problems: list[str] = []
    values: dict[str, str] = {}
    for key in ("name", "staff_type", "business_unit"):
        values[key] = re.sub(r"\s+", " ", cells[key])
        if not values[key]:
            problems.append(f"Line {line}: the {LABELS[key]} is missing.")
        elif len(values[key]) > LIMITS[key]:
            problems.append(
                f"Line {line}: the {LABELS[key]} is longer than {LIMITS[key]} characters."
            )
    emails: dict[str, str | None] = {}
    for key, label in (
        ("email", "email address"),
        ("line_manager", "line manager's email"),
        ("coach", "coach's email"),
    ):
        raw = cells.get(key, "")
        if not raw:
            emails[key] = None
            if key == "email":
                problems.append(f"Line {line}: the email address is missing.")
            continue
        try:
            emails[key] = normalise_email(raw)
        except DomainError:
            problems.append(f"Line {line}: the {label} “{raw}” is not a valid email address.")
            emails[key] = None
    roles, role_problems = _roles(line, cells["roles"])
    leaver = cells.get("leaver", "").lower()
    if leaver not in YES | NO:
        problems.append(f"Line {line}: leaver must be “yes”, “no” or blank, not “{leaver}”.")
    problems += role_problems
    if problems or emails["email"] is None:
        return None, problems
    return PersonRow(
        line=line,
        name=values["name"],
        email=emails["email"],
        staff_type=values["staff_type"],
        business_unit=values["business_unit"],
        manager_email=emails["line_manager"],
        is_admin="admin" in roles,
        is_coach="coach" in roles,
        coach_email=emails["coach"],
        leaver=leaver in YES,
    ), []


def _roles(line: int, cell: str) -> tuple[set[str], list[str]]:
    roles: set[str] = set()
    problems = []
    for word in filter(None, (w.strip().lower() for w in re.split(r"[;,/]", cell))):
        if word not in ROLE_NAMES:
            problems.append(
                f"Line {line}: unknown role “{word}”; write coach, admin, both as "
                "“coach;admin”, or leave it blank for staff."
            )
        elif (role := ROLE_NAMES[word]) is not None:
            roles.add(role)
    return roles, problems


def _check_links(
    row: PersonRow, by_email: dict[str, PersonRow], known: dict[str, Person], *, full_list: bool
) -> list[str]:
    """The manager and coach named must be in the file or already known, and able to serve."""
    problems = []
    for email, role in ((row.manager_email, "line manager"), (row.coach_email, "coach")):
        if email is None:
            continue
        listed, existing = by_email.get(email), known.get(email)
        where = f"Line {row.line}: {role} {email}"
        if email == row.email:
            problems.append(f"Line {row.line}: a person cannot be their own {role}.")
        elif listed is not None:
            if listed.leaver:
                problems.append(f"{where} is marked as a leaver on line {listed.line}.")
            elif role == "coach" and not listed.is_coach:
                problems.append(
                    f"{where} is not a coach: add “coach” to roles on line {listed.line}."
                )
        elif existing is None:
            problems.append(f"{where} is neither in this file nor already in feedback360.")
        elif not existing.active:
            problems.append(f"{where} has been deactivated.")
        elif full_list:
            problems.append(f"{where} is not in this full staff list, so would be deactivated.")
        elif role == "coach" and not existing.is_coach:
            problems.append(f"{where} is not a coach: give them the coach role first.")
    return problems


def _check_acting(acting: Person, by_email: dict[str, PersonRow], *, full_list: bool) -> list[str]:
    """An administrator cannot lock themselves out with an import."""
    own = by_email.get(acting.email)
    if own is None:
        if full_list:
            return [
                "You are not in this full staff list, so importing it would deactivate you. "
                "Add yourself to the file, or untick “full staff list”."
            ]
        return []
    if own.leaver:
        return [f"Line {own.line}: you cannot mark yourself as a leaver."]
    if not own.is_admin:
        return [f"Line {own.line}: you cannot remove your own admin role; add “admin” there."]
    return []


def _line_of(problem: str) -> int:
    match = re.match(r"Line (\d+):", problem)
    return int(match.group(1)) if match else 0
