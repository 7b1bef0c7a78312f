"""`feedback360 retention apply`: delete the answers of cycles whose retention is over."""

from __future__ import annotations

from datetime import datetime

import click

from feedback360.commands import domain_command
from feedback360.retention import apply_retention
from feedback360.timeutil import today as utc_today


@click.group(help="Data retention: delete rater-level answers once they are no longer needed.")
def retention() -> None:
    pass


@retention.command(
    "apply",
    help="Delete the responses, ratings, comments and drafts of every released cycle whose "
    "retention period is over, keeping its reports and organisation summary. Safe to run "
    "daily from cron: a cycle is done once.",
)
@click.option(
    "--today",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Act as if today were this date (YYYY-MM-DD); for testing.",
)
@domain_command
def apply(on: datetime | None) -> None:
    deleted = apply_retention(on.date() if on else utc_today())
    for outcome in deleted:
        click.echo(f"Deleted the {outcome.responses} responses of “{outcome.cycle.name}”.")
    if not deleted:
        click.echo("No cycle is due for deletion.")
