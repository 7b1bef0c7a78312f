"""The `feedback360` program: Flask's command line bound to this app, with our commands."""

from __future__ import annotations

from flask.cli import FlaskGroup

from feedback360 import create_app


def main() -> None:
    FlaskGroup(
        create_app=create_app,
        help="feedback360: values-based 360-degree feedback. "
        "Start with `feedback360 db upgrade`, then `feedback360 demo` and `feedback360 run`.",
    ).main(prog_name="feedback360")
