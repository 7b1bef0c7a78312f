"""An administrator backs up a running installation and restores it into an empty one."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import MetaData, func, inspect, select, text

from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person
from feedback360.audit.models import AuditEntry
from feedback360.audit.services import record
from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.models import Report
from feedback360.sqlite import whole_transactions
from tests.conftest import (
    DATABASES,
    PASSWORD,
    app_on,
    running_app,
    sign_in,
    submit_form,
)

FEEDBACK360 = Path(sys.executable).with_name("feedback360")
FLASK = Path(sys.executable).with_name("flask")


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch) -> Iterator[Flask]:
    """An installation on SQLite or PostgreSQL, stamped as `db upgrade` would leave it."""
    with app_on(request.param, tmp_path, monkeypatch) as app:
        run(app, "db", "stamp", "head")
        yield app


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch) -> Iterator[Flask]:
    with app_on("sqlite", tmp_path, monkeypatch) as app:
        run(app, "db", "stamp", "head")
        yield app


@contextmanager
def new_installation(
    like: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, tables: bool = True
) -> Iterator[Flask]:
    """A second installation on an empty database of the same kind; its context on top."""
    folder = tmp_path / "new-installation"
    folder.mkdir()
    kind = "sqlite" if db.engine.dialect.name == "sqlite" else "postgresql"
    with running_app(folder, monkeypatch, tables=tables, database=kind) as app:
        yield app


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    """A `feedback360` command run through the real command line on this installation."""
    return app.test_cli_runner().invoke(args=list(args))


def every_row() -> dict[str, list[tuple]]:
    """Every row of every table of the current app's database, in primary key order."""
    db.session.remove()
    with db.engine.connect() as connection:
        tables = MetaData()
        tables.reflect(bind=connection)
        return {
            name: [
                tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key))
            ]
            for name, table in tables.tables.items()
        }


def all_answers(framework, score: str) -> dict[str, str]:
    return {f"s{statement.id}": score for statement in framework.statements}


def a_closed_cycle_with_a_report(app, invited, framework) -> None:  # type: ignore[no-untyped-def]
    """Sam asks five peers: three answer, one leaves a draft, one declines; a report is built."""
    links = invited()
    for n, score in ((1, "5"), (2, "4"), (3, "2")):
        answers = {**all_answers(framework, score), f"c{framework.values[0].id}": f"Note {n}"}
        rater = app.test_client()
        submit_form(
            rater, f"{links[f'rater{n}@example.org']}/form", {**answers, "action": "submit"}
        )
    draft = {f"s{framework.statements[0].id}": "3", "action": "save"}
    submit_form(app.test_client(), f"{links['rater4@example.org']}/form", draft)
    submit_form(app.test_client(), f"{links['rater5@example.org']}/decline", {})
    cycle = db.session.scalars(db.select(Cycle)).one()
    close_cycle(cycle)
    db.session.commit()
    assert len(build_cycle_reports(cycle)) == 1
    db.session.commit()


def test_a_restored_backup_holds_every_row_exactly_and_the_installation_works(
    app, invited, framework, tmp_path, monkeypatch
):
    a_closed_cycle_with_a_report(app, invited, framework)
    backup = tmp_path / "feedback360.backup"

    made = run(app, "backup", str(backup))

    assert made.exit_code == 0, made.output
    assert "Backed up the" in made.output
    assert "report: 1 row" in made.output
    assert "The secret key is not in the backup" in made.output
    assert backup.stat().st_mode & 0o777 == 0o600  # it holds every password hash and answer
    before = every_row()
    with new_installation(app, tmp_path, monkeypatch):
        restored = run(app, "restore", str(backup))

        assert restored.exit_code == 0, restored.output
        assert "Its schema is the one this version expects" in restored.output
        assert every_row() == before
        assert db.session.scalars(db.select(Report)).one().pdf.startswith(b"%PDF")
        browser = app.test_client()
        assert sign_in(browser, "sam@example.org", PASSWORD).status_code == 302
        assert browser.get("/").status_code == 200
        # New rows carry on from the restored ids (PostgreSQL's sequences came back too).
        add_person("Kim Lee", "kim@example.org")
        db.session.commit()


def test_a_backup_from_the_previous_version_restores_and_upgrades(app, tmp_path, monkeypatch):
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    previous = script.get_revision(script.get_current_head()).down_revision
    with new_installation(app, tmp_path, monkeypatch, tables=False) as old:
        assert run(old, "db", "upgrade", str(previous)).exit_code == 0
        assert run(old, "backup", str(tmp_path / "old.backup")).exit_code == 0
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    assert run(app, "db", "upgrade").exit_code == 0  # a new installation of this version

    restored = run(app, "restore", str(tmp_path / "old.backup"))

    assert restored.exit_code == 0, restored.output
    assert "Run `feedback360 db upgrade` now" in restored.output
    assert run(app, "db", "upgrade").exit_code == 0
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []


def test_restore_refuses_a_database_that_holds_data_unless_forced(app, make_person, tmp_path):
    make_person("Sam Taylor", "sam@example.org")
    backup = tmp_path / "feedback360.backup"
    assert run(app, "backup", str(backup)).exit_code == 0
    make_person("Kim Lee", "kim@example.org")

    refused = run(app, "restore", str(backup))

    assert refused.exit_code == 1
    assert "The database is not empty: there are rows in person" in refused.output
    assert "add --force" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Person)) == 2

    replaced = run(app, "restore", "--force", str(backup))

    assert replaced.exit_code == 0, replaced.output
    assert [p.name for p in db.session.scalars(select(Person))] == ["Sam Taylor"]


def test_a_missing_or_damaged_backup_gets_a_clear_message_and_changes_nothing(
    app, make_person, tmp_path
):
    make_person("Sam Taylor", "sam@example.org")
    backup = tmp_path / "feedback360.backup"
    assert run(app, "backup", str(backup)).exit_code == 0
    make_person("Kim Lee", "kim@example.org")
    before = every_row()
    whole = backup.read_bytes()
    (tmp_path / "cut-short").write_bytes(whole[: len(whole) * 3 // 4])
    (tmp_path / "notes.txt").write_text("not a backup\n")

    for name, message in [
        ("nowhere", "There is no backup file at"),
        ("notes.txt", "is not a feedback360 backup"),
        ("cut-short", "cannot be restored|failed and was undone"),
    ]:
        result = run(app, "restore", "--force", str(tmp_path / name))

        assert result.exit_code == 1, result.output
        assert re.search(message, result.output)
        assert "Traceback" not in result.output
        assert every_row() == before


def test_a_backup_never_replaces_a_file_unless_forced(app, make_person, tmp_path):
    backup = tmp_path / "feedback360.backup"
    backup.write_bytes(b"last week's backup")

    refused = run(app, "backup", str(backup))

    assert refused.exit_code == 1
    assert "exists already" in refused.output
    assert backup.read_bytes() == b"last week's backup"
    assert run(app, "backup", "--force", str(backup)).exit_code == 0
    assert backup.read_bytes() != b"last week's backup"
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == [backup.name]


def test_a_failed_backup_leaves_no_file_behind(app, tmp_path, monkeypatch):
    backup = tmp_path / "feedback360.backup"
    backup.write_bytes(b"last week's backup")
    if db.engine.dialect.name == "sqlite":
        Path(db.engine.url.database).unlink()
        expected = "There is no database at"
    else:
        # A pg_dump that dies half-way through its file, as one does when the disk fills.
        tools = tmp_path / "bin"
        tools.mkdir()
        (tools / "pg_dump").write_text(
            '#!/bin/sh\nfor a; do case "$a" in --file=*) echo PGDMP-half > "${a#--file=}";; '
            "esac; done\necho 'pg_dump: error: could not write: No space left' >&2\nexit 1\n"
        )
        (tools / "pg_dump").chmod(0o755)
        monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
        expected = "pg_dump failed: pg_dump: error: could not write: No space left"

    failed = run(app, "backup", "--force", str(backup))

    assert failed.exit_code == 1
    assert expected in failed.output
    assert backup.read_bytes() == b"last week's backup"
    assert [p.name for p in tmp_path.iterdir() if "backup" in p.name] == [backup.name]


def test_a_backup_taken_while_the_app_writes_is_one_consistent_moment(sqlite_app, tmp_path):
    """Each write adds a person and an audit entry together; every backup holds pairs."""
    stop = threading.Event()

    def write_pairs() -> None:
        n = 0
        with sqlite_app.app_context(), whole_transactions():
            while not stop.is_set():
                n += 1
                add_person(f"Writer {n}", f"writer{n}@example.org")
                record("test.pair", f"writer {n}")
                db.session.commit()

    writer = threading.Thread(target=write_pairs)
    writer.start()
    try:
        counts = []
        for n in range(6):
            backup = tmp_path / f"during-{n}.backup"
            assert run(sqlite_app, "backup", str(backup)).exit_code == 0
            with closing(sqlite3.connect(backup)) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                people = copy.execute("SELECT count(*) FROM person").fetchone()[0]
                pairs = copy.execute(
                    "SELECT count(*) FROM audit_entry WHERE action = 'test.pair'"
                ).fetchone()[0]
            assert people == pairs
            counts.append(people)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert counts == sorted(counts)
    assert counts[-1] > counts[0]  # the app really was writing while the backups ran
    total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert total >= counts[-1]


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        ("0123456789ab", "Restore it with the version of feedback360 that made it"),
        (None, "holds no schema revision"),
    ],
)
def test_a_backup_this_version_cannot_run_on_is_refused(
    sqlite_app, tmp_path, monkeypatch, revision, expected
):
    backup = tmp_path / "feedback360.backup"
    assert run(sqlite_app, "backup", str(backup)).exit_code == 0
    with closing(sqlite3.connect(backup)) as copy, copy:
        if revision is None:
            copy.execute("DROP TABLE alembic_version")
        else:
            copy.execute("UPDATE alembic_version SET version_num = ?", (revision,))

    with new_installation(sqlite_app, tmp_path, monkeypatch):
        refused = run(sqlite_app, "restore", str(backup))

        assert refused.exit_code == 1
        assert expected in refused.output
        assert inspect(db.engine).get_table_names() == sorted(db.metadata.tables)


def test_a_backup_of_one_engine_is_not_restored_into_the_other(app, tmp_path):
    other = tmp_path / "other.backup"
    if db.engine.dialect.name == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
        expected = "is a backup of a PostgreSQL database, but this installation uses SQLite"
    else:
        with closing(sqlite3.connect(other)) as database:
            database.execute("CREATE TABLE t (x)")
        expected = "is a backup of a SQLite database, but this installation uses PostgreSQL"

    refused = run(app, "restore", str(other))

    assert refused.exit_code == 1
    assert expected in refused.output


def installation(instance: Path, database: Path) -> dict[str, str]:
    """The environment of an installation on this instance folder and SQLite file."""
    environment = {
        **os.environ,
        "FEEDBACK360_INSTANCE_PATH": str(instance),
        "FEEDBACK360_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
    }
    environment.pop("FEEDBACK360_CONFIG", None)
    return environment


def script(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own scripts)
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_commands_exit_as_scripts_expect(sqlite_app, tmp_path):
    """Through the installed script: 0 when done, 1 when refused; never a traceback."""
    add_person("Sam Taylor", "sam@example.org")
    db.session.commit()
    old = installation(tmp_path / "instance", Path(db.engine.url.database))
    new = installation(tmp_path / "new", tmp_path / "new.sqlite")
    backup = tmp_path / "feedback360.backup"

    assert script([str(FEEDBACK360), "backup", str(backup)], old).returncode == 0
    restored = script([str(FEEDBACK360), "restore", str(backup)], new)
    assert restored.returncode == 0, restored.stderr
    assert "the database now holds" in restored.stdout
    refused = script([str(FEEDBACK360), "restore", str(backup)], new)
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: The database is not empty")
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(backup.read_bytes()[:3000])
    broken = script([str(FEEDBACK360), "restore", "--force", str(damaged)], new)
    assert broken.returncode == 1
    assert "is damaged and cannot be restored" in broken.stderr
    assert "Traceback" not in broken.stderr + refused.stderr
    with closing(sqlite3.connect(tmp_path / "new.sqlite")) as database:
        assert database.execute("SELECT name FROM person").fetchall() == [("Sam Taylor",)]


def test_a_command_used_wrongly_exits_with_2(sqlite_app):
    assert run(sqlite_app, "backup").exit_code == 2
    assert run(sqlite_app, "restore", "a", "b").exit_code == 2


def test_flask_runs_the_commands_too(sqlite_app, tmp_path):
    env = installation(tmp_path / "instance", Path(db.engine.url.database))

    made = script([str(FLASK), "--app", "feedback360", "backup", str(tmp_path / "b")], env)

    assert made.returncode == 0, made.stderr
    assert "Backed up the SQLite database" in made.stdout


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_each_command_explains_itself(sqlite_app, command):
    result = run(sqlite_app, command, "--help")

    assert result.exit_code == 0
    assert "PATH" in result.output
    assert "--force" in result.output
