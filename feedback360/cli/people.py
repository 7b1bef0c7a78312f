"""`feedback360 people`: add one person, or import a staff list from a script."""

from __future__ import annotations

from pathlib import Path

import click

from feedback360.accounts.activation import send_password_links
from feedback360.accounts.csv_reading import MAX_BYTES
from feedback360.accounts.importing import import_people
from feedback360.accounts.services import add_person, person_by_email
from feedback360.actions import commit_or_refuse
from feedback360.commands import domain_command
from feedback360.errors import DomainError
from feedback360.wording import counted


@click.group(help="Add people, or import them from a CSV staff list.")
def people() -> None:
    pass


@people.command("add", help="Add a person who can sign in.")
@click.option("--name", required=True, help="Full name, e.g. 'Sam Taylor'.")
@click.option("--email", required=True, help="Email address, used to sign in.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Password (asked for when not given).",
)
@click.option("--admin", is_flag=True, help="Make them an administrator.")
@click.option("--coach", is_flag=True, help="Make them a leadership coach.")
@click.option("--staff-type", help="For example 'Police officer' or 'Police staff'.")
@click.option("--business-unit", help="Their business unit.")
@click.option("--manager", "manager_email", help="Their line manager's email address.")
@domain_command
def add(
    name: str,
    email: str,
    password: str,
    admin: bool,
    coach: bool,
    staff_type: str | None,
    business_unit: str | None,
    manager_email: str | None,
) -> None:
    manager = None
    if manager_email:
        manager = person_by_email(manager_email)
        if manager is None:
            raise DomainError(f"No person has the email {manager_email}; add the manager first.")
    person = add_person(
        name,
        email,
        password=password,
        is_admin=admin,
        is_coach=coach,
        staff_type=staff_type,
        business_unit=business_unit,
        line_manager=manager,
    )
    click.echo(f"Added {person.name} <{person.email}>.")


@people.command("import", help="Import people from a CSV staff list (all rows or none).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--full-list",
    is_flag=True,
    help="The file lists every member of staff: deactivate anyone active who is not in it.",
)
def import_command(file: Path, full_list: bool) -> None:
    with file.open("rb") as stream:
        data = stream.read(MAX_BYTES + 1)
    result = commit_or_refuse(
        lambda: import_people(data, file.name, full_list=full_list, acting=None)
    )  # committed before mailing: a link must never point at an unsaved token
    if isinstance(result, DomainError):
        raise click.ClickException(result.message) from result
    outcome = result.outcome
    click.echo(f"Import complete: {outcome.summary()}.")
    if outcome.ignored_headings:
        click.echo(f"Columns not used: {', '.join(outcome.ignored_headings)}.")
    if failed := send_password_links(outcome.links):
        click.echo(
            f"{counted(failed, 'set-password email')} could not be sent; resend them later.",
            err=True,
        )
