"""Backing up the whole database to one file, and restoring it into an empty installation.

Personal reports (their HTML and PDF) are kept in the database, and so is everything else
the app needs but its configuration and its secret key: the database is the installation.
A SQLite backup is itself a SQLite database; a PostgreSQL backup is a pg_dump archive.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.request import pathname2url

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy import Connection, inspect, text

from feedback360.errors import DomainError
from feedback360.extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"
HEADERS = {SQLITE_HEADER: "SQLite", b"PGDMP": "PostgreSQL"}
LOCK_TIMEOUT_S = 60


@dataclass(frozen=True)
class Contents:
    """What a database holds: its rows, table by table, and its schema revision."""

    rows: dict[str, int]
    revision: str | None

    def summary(self) -> str:
        total = sum(self.rows.values())
        return f"{counted(len(self.rows), 'table')}, {counted(total, 'row')}"


def back_up(path: Path) -> Contents:
    """Copy the app's database to path, which appears only once the copy is complete."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)  # made readable by its owner only: a backup holds every answer
    temporary = Path(name)
    try:
        contents = _back_up_sqlite(temporary) if _on_sqlite() else _back_up_postgres(temporary)
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return contents


def restore(path: Path, *, replace: bool = False) -> tuple[Contents, str | None]:
    """Restore the backup at path into the app's database; also advice for afterwards."""
    restore_into = _restore_sqlite if _on_sqlite() else _restore_postgres
    revision = (_sqlite_backup_revision if _on_sqlite() else _postgres_backup_revision)(path)
    advice = _check_revision(revision)
    db.session.close()  # its locks would keep the restore waiting on this very command
    if not replace:
        _refuse_if_holding_data()
    restore_into(path)
    db.engine.dispose()  # pooled connections may remember the tables as they were
    with db.engine.connect() as connection:
        return _database_contents(connection), advice


def check_destination(path: Path, *, replace: bool) -> None:
    if path.is_dir():
        raise DomainError(f"{path} is a folder; give the name of the backup file to write.")
    if not path.parent.is_dir():
        raise DomainError(f"The folder {path.parent} does not exist.")
    if path.exists() and not replace:
        raise DomainError(f"{path} exists already. Choose another name, or add --force.")


def check_backup_file(path: Path) -> None:
    """Refuse a missing file, or one of the other engine, before touching the database."""
    if not path.is_file():
        raise DomainError(f"There is no backup file at {path}.")
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    made_on = next((name for magic, name in HEADERS.items() if header.startswith(magic)), None)
    if made_on is None:
        raise DomainError(f"{path} is not a feedback360 backup: it is damaged or another file.")
    here = engine_name()
    if made_on != here:
        raise DomainError(
            f"{path} is a backup of a {made_on} database, but this installation uses "
            f"{here}. Restore it into an installation on {made_on}."
        )


# --- SQLite ---------------------------------------------------------------------------


def _back_up_sqlite(temporary: Path) -> Contents:
    with (
        closing(_open_sqlite(_sqlite_database(must_exist=True))) as source,
        closing(sqlite3.connect(temporary)) as copy,
    ):
        # One step reads one snapshot; in WAL mode the app goes on writing meanwhile.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # a single file, with no -wal beside it
        return _sqlite_contents(copy)


def _restore_sqlite(path: Path) -> None:
    # The backup API, not a file copy: it takes the write lock as any writer does, so it is
    # safe while the app runs, and it keeps the -wal and -shm files beside the database
    # consistent, where a copied file would meet a stale write-ahead log and be corrupted.
    with closing(_open_backup(path)) as backup, closing(_open_sqlite(_sqlite_database())) as live:
        backup.backup(live)


def _sqlite_backup_revision(path: Path) -> str | None:
    with closing(_open_backup(path)) as backup:
        try:
            problems = [row[0] for row in backup.execute("PRAGMA quick_check")]
            contents = _sqlite_contents(backup)
        except sqlite3.DatabaseError as error:
            problems = [str(error)]
        if problems != ["ok"]:
            raise DomainError(f"{path} is damaged and cannot be restored ({problems[0]}).")
        return contents.revision


def _sqlite_contents(connection: sqlite3.Connection) -> Contents:
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    rows = {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608 (names from the schema)
    revision = None
    if "alembic_version" in tables:
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = found[0] if found else None
    return Contents(rows, revision)


def _open_backup(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro", uri=True)


def _open_sqlite(path: Path) -> sqlite3.Connection:
    from feedback360.sqlite import BUSY_TIMEOUT_MS

    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def _sqlite_database(*, must_exist: bool = False) -> Path:
    name = db.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise DomainError(f"The database {name or ':memory:'} is not a file that can be copied.")
    path = Path(name)
    if must_exist and not path.is_file():
        raise DomainError(f"There is no database at {path} yet: nothing to back up.")
    return path


def _on_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def engine_name() -> str:
    return "SQLite" if _on_sqlite() else "PostgreSQL"


# --- PostgreSQL -----------------------------------------------------------------------


def _back_up_postgres(temporary: Path) -> Contents:
    pg_dump = _postgres_tool("pg_dump")
    with (
        db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
        connection.begin(),
    ):
        # pg_dump reads the very snapshot counted here, so the summary describes the file.
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        contents = _database_contents(connection)
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={temporary}"])
    return contents


def _restore_postgres(path: Path) -> None:
    in_backup, keys_in_backup = _postgres_backup_tables(path), _postgres_backup_keys(path)
    with db.engine.begin() as connection:
        # Tables of a newer schema than the backup's would stop `db upgrade` afterwards.
        for table in set(inspect(connection).get_table_names()) - in_backup:
            if table in db.metadata.tables or table == "alembic_version":
                connection.execute(text(f'DROP TABLE "{table}" CASCADE'))
        # So would a newer foreign key between the backup's tables: the restore could not
        # drop the key it points at. `db upgrade` adds it again afterwards.
        for table in in_backup & set(inspect(connection).get_table_names()):
            for key in inspect(connection).get_foreign_keys(table):
                if key["name"] and key["name"] not in keys_in_backup:
                    connection.execute(
                        text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{key["name"]}"')
                    )
    # One transaction: a restore that fails half-way leaves the database as it was.
    try:
        _run(
            [
                _postgres_tool("pg_restore"),
                *("--no-owner", "--no-privileges", "--clean", "--if-exists"),
                *("--single-transaction", "--exit-on-error", str(path)),
            ]
        )
    except DomainError as error:
        raise DomainError(f"Restoring {path} failed and was undone ({error.message}).") from None


def _postgres_backup_tables(path: Path) -> set[str]:
    try:
        listing = _run([_postgres_tool("pg_restore"), "--list", str(path)], dbname=False)
    except DomainError as error:
        raise DomainError(f"{path} is damaged and cannot be restored ({error.message}).") from None
    return set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE))


def _postgres_backup_keys(path: Path) -> set[str]:
    listing = _run([_postgres_tool("pg_restore"), "--list", str(path)], dbname=False)
    return set(re.findall(r"^\d+; \d+ \d+ FK CONSTRAINT \S+ \S+ (\S+) ", listing, re.MULTILINE))


def _postgres_backup_revision(path: Path) -> str | None:
    _postgres_backup_tables(path)  # a damaged archive is refused here, before any change
    script = _run(
        [
            _postgres_tool("pg_restore"),
            *("--data-only", "--table=alembic_version", "--file=-", str(path)),
        ],
        dbname=False,
    )
    found = re.search(r"^COPY \S*alembic_version .*FROM stdin;\n(.+)$", script, re.MULTILINE)
    return found.group(1) if found and found.group(1) != "\\." else None


def _postgres_tool(name: str) -> str:
    installed = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda found: int(re.sub(r"\D", "", Path(found).parts[-3]) or 0),
    )
    found = shutil.which(name) or (installed[-1] if installed else None)
    if found is None:
        raise DomainError(
            f"{name} was not found. Install the PostgreSQL client tools (on Debian or Ubuntu: "
            f"apt install postgresql-client) or put {name} on the PATH."
        )
    return found


def _run(command: list[str], *, dbname: bool = True) -> str:
    url = db.engine.url
    # A restore waits for the app's transactions to end, but not for ever.
    options = f"{os.environ.get('PGOPTIONS', '')} -c lock_timeout={LOCK_TIMEOUT_S}s"
    env = {**os.environ, "PGOPTIONS": options.strip()}
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where ps shows it
    if dbname:
        plain = url.set(drivername="postgresql", password=None)
        command = [*command, f"--dbname={plain.render_as_string(hide_password=False)}"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (our own tools, our own arguments)
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise DomainError(f"{tool} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


# --- Both -----------------------------------------------------------------------------


def _database_contents(connection: Connection) -> Contents:
    tables = sorted(inspect(connection).get_table_names())
    rows = {
        table: connection.scalar(text(f'SELECT count(*) FROM "{table}"'))  # noqa: S608 (names from the schema)
        for table in tables
    }
    revision = None
    if "alembic_version" in tables:
        revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return Contents(rows, revision)


def _check_revision(revision: str | None) -> str | None:
    """Refuse a backup this code cannot run on; advice when it needs `db upgrade`."""
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    expected = ", ".join(script.get_heads())
    if revision is None:
        raise DomainError(
            "The backup holds no schema revision, so it was not made from a database set up "
            "with `feedback360 db upgrade`. It cannot be restored safely."
        )
    if revision in script.get_heads():
        return None
    try:
        script.get_revision(revision)
    except CommandError:
        raise DomainError(
            f"The backup was made by another version of feedback360: its schema revision "
            f"{revision} is unknown to this version, which expects {expected}. Restore it "
            "with the version of feedback360 that made it, then upgrade that installation."
        ) from None
    return (
        f"The backup is from an older version of feedback360 (schema revision {revision}; "
        f"this version expects {expected}). Run `feedback360 db upgrade` now to bring the "
        "database up to date before starting the app."
    )


def _refuse_if_holding_data() -> None:
    with db.engine.connect() as connection:
        ours = sorted(set(inspect(connection).get_table_names()) & set(db.metadata.tables))
        holding = [
            table
            for table in ours
            if connection.scalar(text(f'SELECT 1 FROM "{table}" LIMIT 1'))  # noqa: S608 (names from the schema)
        ]
    if holding:
        raise DomainError(
            f"The database is not empty: there are rows in {', '.join(holding)}. Restore "
            "only into an empty database, or add --force to replace everything in it."
        )


def counted(number: int, thing: str) -> str:
    return f"{number:,} {thing}{'' if number == 1 else 's'}"
