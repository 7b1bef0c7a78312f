"""`feedback360 framework`: load a framework file as a new version."""

from __future__ import annotations

from pathlib import Path

import click

from feedback360.commands import domain_command
from feedback360.frameworks.services import (
    BUNDLED_DIR,
    load_framework,
    read_framework_file,
)


@click.group(help="Load values frameworks.")
def framework() -> None:
    pass


@framework.command("load", help=f"Load a framework TOML file. Shipped: {BUNDLED_DIR}/*.toml")
@click.argument("file", type=click.Path(path_type=Path))
@domain_command
def load(file: Path) -> None:
    loaded, new = load_framework(read_framework_file(file))
    statements = loaded.statements
    positive = sum(statement.positive for statement in statements)
    serious = sum(statement.serious for statement in statements)
    if new:
        click.echo(
            f"Loaded “{loaded.name}” (key {loaded.key}) as version {loaded.version}: "
            f"{len(loaded.values)} values, {positive} “We will” and "
            f"{len(statements) - positive} “We will not” statements"
            f"{f' ({serious} serious)' if serious else ''}."
        )
    else:
        click.echo(f"“{loaded.name}” is unchanged: it is already version {loaded.version}.")
