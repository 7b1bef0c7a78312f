"""The `feedback360` command: Flask's command line bound to this app, plus our commands."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup


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


def _create_app() -> Flask:
    from feedback360 import create_app

    return create_app()


def main() -> None:
    FlaskGroup(
        create_app=_create_app,
        help="feedback360: values-based 360-degree feedback. "
        "Start with `feedback360 db upgrade`, then `feedback360 demo` and `feedback360 run`.",
    ).main(prog_name="feedback360")
