"""`feedback360 cycle`: create, open, close and release cycles."""

from __future__ import annotations

from datetime import date

import click

from feedback360.cli import domain_command
from feedback360.cycles.services import create_cycle, find_cycle
from feedback360.errors import DomainError
from feedback360.frameworks.services import latest_framework
from feedback360.reports.services import release_reports


@click.group(help="Create and run feedback cycles.")
def cycle() -> None:
    pass


@cycle.command("create", help="Create a draft cycle on the latest version of a framework.")
@click.argument("name")
@click.option(
    "--framework",
    "framework_key",
    default="mps-2006",
    show_default=True,
    help="Key of a loaded framework.",
)
@click.option(
    "--closes-on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Closing date, YYYY-MM-DD."
)
@click.option(
    "--threshold",
    default=3,
    show_default=True,
    help="Anonymity threshold k: fewest responses a group needs to be shown (≥ 2).",
)
@click.option("--min-raters", default=5, show_default=True, help="Fewest raters per request.")
@click.option("--max-raters", default=15, show_default=True, help="Most raters per request.")
@click.option(
    "--manager-identifiable",
    is_flag=True,
    help="Show the line manager's answers on their own (raters are told).",
)
@domain_command
def create(
    name: str,
    framework_key: str,
    closes_on: date | None,
    threshold: int,
    min_raters: int,
    max_raters: int,
    manager_identifiable: bool,
) -> None:
    framework = latest_framework(framework_key)
    if framework is None:
        raise DomainError(f"No framework “{framework_key}” is loaded; run `framework load`.")
    created = create_cycle(
        name,
        framework,
        closes_on=closes_on.date() if closes_on else None,
        threshold=threshold,
        min_raters=min_raters,
        max_raters=max_raters,
        manager_identifiable=manager_identifiable,
    )
    click.echo(f"Created cycle {created.id} “{created.name}” (draft) on {framework.label}.")


def _transition(verb: str, method: str) -> click.Command:
    @click.argument("reference", metavar="CYCLE")
    @domain_command
    def command(reference: str) -> None:
        found = find_cycle(reference)
        getattr(found, method)()
        click.echo(f"Cycle {found.id} “{found.name}” is now {found.status}.")

    return cycle.command(verb, help=f"{verb.capitalize()} a cycle, given by id or name.")(command)


_transition("open", "open")
_transition("close", "close")


@cycle.command("release", help="Release a closed CYCLE's reports (id or name) to their subjects.")
@click.argument("reference", metavar="CYCLE")
@domain_command
def release(reference: str) -> None:
    found = find_cycle(reference)
    count = release_reports(found)
    click.echo(f"Cycle {found.id} “{found.name}” is now released: {count} report(s) to read.")
