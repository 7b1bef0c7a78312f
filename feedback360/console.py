"""The `feedback360` program: Flask's command line bound to this app, with our commands."""

from __future__ import annotations

import copy
import os
from typing import Any

import click
from flask.cli import FlaskGroup, run_command

from feedback360 import create_app
from feedback360.config import SERVED_AT_ENV


def main() -> None:
    group = FlaskGroup(
        create_app=create_app,
        help="feedback360: values-based 360-degree feedback. "
        "Start with `feedback360 db upgrade`, then `feedback360 demo` and `feedback360 run`.",
    )
    group.add_command(run_telling_the_address())
    group.main(prog_name="feedback360")


def run_telling_the_address() -> click.Command:
    """Flask's `run`, which first tells the app where it serves, for the links in its mail
    when BASE_URL is not set (the reloader's process inherits it)."""
    command = copy.copy(run_command)
    serve = run_command.callback
    assert serve is not None  # noqa: S101 (Flask's command has its callback)

    def serve_at_address(**options: Any) -> Any:
        os.environ[SERVED_AT_ENV] = served_at(options["host"], options["port"], options["cert"])
        return serve(**options)

    command.callback = serve_at_address
    return command


def served_at(host: str, port: int, cert: object) -> str:
    """The address a browser on this machine uses to reach `feedback360 run`."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (every address: this machine's own)
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"{'https' if cert else 'http'}://{host}:{port}"
