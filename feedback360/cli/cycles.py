"""`feedback360 cycle`: create, open, close and release cycles; `feedback360 reminders`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click

from feedback360.closing import close_cycle
from feedback360.commands import domain_command
from feedback360.cycles.models import COACH_FIRST, TOGETHER, Cycle
from feedback360.cycles.services import create_cycle, find_cycle, open_cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.reminders import send_scheduled_reminders
from feedback360.frameworks.services import latest_framework
from feedback360.reports.freezing import freeze_cycle
from feedback360.reports.services import release_reports, release_to_coaches
from feedback360.scheduling import tick
from feedback360.timeutil import today as current_date
from feedback360.wording import counted


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
    "--opens-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Opening date, YYYY-MM-DD (`cycle tick` opens it then).",
)
@click.option(
    "--closes-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day to answer, YYYY-MM-DD (`cycle tick` closes it the day after).",
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
@click.option(
    "--release-mode",
    type=click.Choice([TOGETHER, COACH_FIRST]),
    default=TOGETHER,
    show_default=True,
    help="Release reports to coaches and staff together, or to coaches first.",
)
@domain_command
def create(
    name: str,
    framework_key: str,
    opens_on: datetime | None,
    closes_on: datetime | None,
    threshold: int,
    min_raters: int,
    max_raters: int,
    manager_identifiable: bool,
    release_mode: str,
) -> None:
    framework = latest_framework(framework_key)
    if framework is None:
        raise DomainError(f"No framework “{framework_key}” is loaded; run `framework load`.")
    created = create_cycle(
        name,
        framework,
        opens_on=opens_on.date() if opens_on else None,
        closes_on=closes_on.date() if closes_on else None,
        threshold=threshold,
        min_raters=min_raters,
        max_raters=max_raters,
        manager_identifiable=manager_identifiable,
        release_mode=release_mode,
    )
    click.echo(f"Created cycle {created.id} “{created.name}” (draft) on {framework.label}.")


def _transition(verb: str, change: Callable[[Cycle], None]) -> click.Command:
    @click.argument("reference", metavar="CYCLE")
    @domain_command
    def command(reference: str) -> None:
        found = find_cycle(reference)
        change(found)
        click.echo(f"Cycle {found.id} “{found.name}” is now {found.status}.")

    return cycle.command(verb, help=f"{verb.capitalize()} a cycle, given by id or name.")(command)


_transition("open", open_cycle)


@cycle.command(
    "close",
    help="Close a cycle, given by id or name, and freeze its reports: the whole cycle is "
    "analysed once and what each report shows is kept, so they can be released at once; "
    "`reports build` makes their pages and PDFs.",
)
@click.argument("reference", metavar="CYCLE")
@domain_command
def close(reference: str) -> None:
    found = find_cycle(reference)
    close_cycle(found)
    db.session.commit()  # closed, whatever becomes of the freeze
    click.echo(f"Cycle {found.id} “{found.name}” is now {found.status}.")
    frozen = freeze_cycle(found)
    click.echo(f"Froze {counted(frozen, 'report')}; they can be released now.")


@cycle.command(
    "release",
    help="Release a closed CYCLE's reports (id or name) to their subjects and coaches. "
    "Where the cycle releases to coaches first, run it with --to-coaches first.",
)
@click.argument("reference", metavar="CYCLE")
@click.option("--to-coaches", is_flag=True, help="Release to the coaches only, not yet to staff.")
@domain_command
def release(reference: str, to_coaches: bool) -> None:
    found = find_cycle(reference)
    if to_coaches:
        count = release_to_coaches(found)
        click.echo(
            f"Cycle {found.id} “{found.name}”: {counted(count, 'report')} released to coaches."
        )
        return
    count = release_reports(found)
    click.echo(
        f"Cycle {found.id} “{found.name}” is now released: {counted(count, 'report')} to read."
    )


@cycle.command(
    "tick",
    help="Open draft cycles whose opening date has come and close open cycles whose closing "
    "date has passed. Run it daily from cron; running it again does nothing more.",
)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), hidden=True)
@domain_command
def tick_command(today: datetime | None) -> None:
    done = tick(today.date() if today else current_date())
    click.echo("\n".join(done) if done else "Nothing to open or close today.")


@click.group(help="Remind raters who have not answered.")
def reminders() -> None:
    pass


@reminders.command(
    "send",
    help="Remind raters who have not answered, 7 and 2 days before their cycle closes (or at "
    "the first run after a missed day). Run it daily from cron; nobody is reminded twice a day.",
)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), hidden=True)
@domain_command
def send_reminders(today: datetime | None) -> None:
    done = send_scheduled_reminders(today.date() if today else current_date())
    for found, day, sent in done:
        before = (found.closes_on - day).days if found.closes_on else 0
        click.echo(
            f"“{found.name}”: {counted(sent, 'rater')} reminded "
            f"({counted(before, 'day')} before it closes)."
        )
    if not done:
        click.echo("No reminders are due today.")
