"""`feedback360 people`: add one person, or import a staff list from a script."""

from __future__ import annotations

from pathlib import Path

import click

from feedback360.accounts.csv_reading import MAX_BYTES, ImportRefused
from feedback360.accounts.import_job_run import run_import_job
from feedback360.accounts.import_jobs import create_import_job, mail_progress
from feedback360.accounts.models import FAILED, REFUSED, ImportJob
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
    # A job run here, as the import page's are run in a process of their own: the
    # administrators' page shows it too, and its mail goes once the import has committed.
    created = commit_or_refuse(
        lambda: create_import_job(data, file.name, full_list=full_list, acting=None)
    )
    if isinstance(created, DomainError):
        raise click.ClickException(created.message) from created
    _run(created.outcome.id)


@people.command(
    "import-job",
    help="Run an import stored by the administrators' import page (which starts this itself).",
)
@click.argument("job_id", type=int)
def import_job_command(job_id: int) -> None:
    _run(job_id)


def _run(job_id: int) -> None:
    """Run the job here and say what came of it; exit status 1 unless it saved the list."""
    ran = commit_or_refuse(lambda: run_import_job(job_id))
    if isinstance(ran, DomainError):
        raise click.ClickException(ran.message) from ran
    job: ImportJob = ran.outcome
    if job.state == REFUSED:
        raise click.ClickException(ImportRefused(job.problems).message)
    if job.state == FAILED:
        raise click.ClickException(job.failure)
    click.echo(f"Import complete: {job.summary}.")
    if job.ignored_headings:
        click.echo(f"Columns not used: {', '.join(job.ignored_headings)}.")
    mail = mail_progress(job)
    if mail.queued:
        click.echo(f"{counted(mail.sent, 'set-password email')} sent.")
    if mail.failed or mail.waiting:
        click.echo(
            f"{counted(mail.failed + mail.waiting, 'set-password email')} could not be sent "
            "yet; `feedback360 mail retry` sends them.",
            err=True,
        )
