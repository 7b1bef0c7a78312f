"""`feedback360 backup` and `feedback360 restore`: the whole database to one file and back."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from feedback360.backup import (
    back_up,
    check_backup_file,
    check_destination,
    counted,
    engine_name,
    restore,
)
from feedback360.errors import DomainError

# The secret key stays out on purpose: a backup gets copied to other places, and with the
# key its holder could forge a sign-in and work out every open rater link of the live site.
LEFT_OUT_NOTE = (
    "The secret key is not in the backup: keep a copy of it (the file secret_key in the "
    "instance folder, or your SECRET_KEY setting) somewhere safe, apart from the backup. "
    "A restored installation needs the same key, or everyone must sign in again and "
    "reminders carry rater links that do not open."
)
PUT_BACK_NOTE = (
    "Put back the secret key that went with the backed-up installation (the file secret_key "
    "in the instance folder, or the SECRET_KEY setting), or everyone must sign in again and "
    "reminders carry rater links that do not open."
)


def _size(size: float) -> str:
    if size < 1000:
        return f"{int(size):,} bytes"
    exponent = min(int(math.log10(size)) // 3, 3)
    return f"{size / 1000**exponent:,.1f} {('KB', 'MB', 'GB')[exponent - 1]}"


def _plain_failure(function: Callable[..., Any]) -> Callable[..., Any]:
    """A refusal or a failure of the database or the disk becomes a message and status 1."""

    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        except (OSError, sqlite3.Error) as error:
            raise click.ClickException(str(error)) from error
        except SQLAlchemyError as error:
            reason = getattr(error, "orig", None) or error
            raise click.ClickException(f"The database could not be used: {reason}") from error

    return run


@click.command(
    "backup",
    help="Back up the whole database to the file PATH while the app keeps running: SQLite "
    "through its online backup API, PostgreSQL through pg_dump. The file appears only once "
    "complete. The secret key is not included: keep a copy of it apart.",
)
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists already.")
@_plain_failure
def backup(path: Path, force: bool) -> None:
    check_destination(path, replace=force)
    contents = back_up(path)
    click.echo(
        f"Backed up the {engine_name()} database to {path} ({_size(path.stat().st_size)}): "
        f"{contents.summary()}, at schema revision {contents.revision or 'none'}."
    )
    for table, rows in contents.rows.items():
        click.echo(f"  {table}: {counted(rows, 'row')}")
    click.echo(LEFT_OUT_NOTE)


@click.command(
    "restore",
    help="Restore the backup file PATH into this installation's database, which must be "
    "empty (a new installation). The backup must come from this version of feedback360 or "
    "an older one; after an older one, run `feedback360 db upgrade`.",
)
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace everything the database holds now.")
@_plain_failure
def restore_command(path: Path, force: bool) -> None:
    check_backup_file(path)
    contents, advice = restore(path, replace=force)
    click.echo(f"Restored {path}: the database now holds {contents.summary()}.")
    click.echo(advice or f"Its schema is the one this version expects ({contents.revision}).")
    click.echo(PUT_BACK_NOTE)
