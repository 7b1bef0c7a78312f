"""The `feedback360` command: Flask's command line bound to this app, plus our commands."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from feedback360.errors import DomainError
from feedback360.extensions import db


def init_app(app: Flask) -> None:
    from feedback360.accounts.cli import people
    from feedback360.backup import backup, restore_command
    from feedback360.cycles.cli import cycle, reminders
    from feedback360.demo import demo
    from feedback360.frameworks.cli import framework
    from feedback360.mailing.cli import mail
    from feedback360.reports.cli import reports
    from feedback360.retention import retention

    for command in (people, framework, cycle, reminders, reports, demo, mail, retention):
        app.cli.add_command(command)
    app.cli.add_command(backup)
    app.cli.add_command(restore_command)


def domain_command(function: Callable[..., Any]) -> Callable[..., Any]:
    """Commit on success; turn a refused action into a clear message and exit status 1."""

    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            outcome = function(*args, **kwargs)
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        db.session.commit()
        return outcome

    return run


def _create_app() -> Flask:
    from feedback360 import create_app

    return create_app()


def main() -> None:
    FlaskGroup(
        create_app=_create_app,
        help="feedback360: values-based 360-degree feedback. "
        "Start with `feedback360 db upgrade`, then `feedback360 demo` and `feedback360 run`.",
    ).main(prog_name="feedback360")
