"""`feedback360 people`: add people before the administration pages exist."""

from __future__ import annotations

import click

from feedback360.accounts.services import add_person, person_by_email
from feedback360.cli import domain_command
from feedback360.errors import DomainError


@click.group(help="Add and list people.")
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
    if len(password) < 8:
        raise DomainError("The password must have at least 8 characters.")
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
