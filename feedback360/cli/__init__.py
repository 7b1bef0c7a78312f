"""Our commands on Flask's command line, one module per group (the program is in console.py)."""

from __future__ import annotations

from flask import Flask

from feedback360.cli.backup import backup, restore_command
from feedback360.cli.cycles import cycle, reminders
from feedback360.cli.demo import demo
from feedback360.cli.frameworks import framework
from feedback360.cli.mail import mail
from feedback360.cli.people import people
from feedback360.cli.reports import reports
from feedback360.cli.retention import retention

COMMANDS = (people, framework, cycle, reminders, reports, demo, mail, retention, backup)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
    app.cli.add_command(restore_command)
