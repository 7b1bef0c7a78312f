"""The databases tests run on, made quickly and always empty at the start of a test.

- SQLite: a file copied from one made with every table once per test process.
- PostgreSQL: one database per test process (per pytest-xdist worker), emptied before each
  test that uses it. Its commits are real, so threads, subprocesses and other connections
  see them as they would in production. A test that needs a second database at once, or
  one without tables, gets a database of its own, dropped afterwards.
- Snapshots: a world built once per module is saved and put back before each test (a file
  copy on SQLite; the rows and sequences on PostgreSQL, which is much quicker than copying
  a database).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import URL, Connection, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from feedback360 import models  # noqa: F401  (every table, for the templates)
from feedback360.extensions import db
from feedback360.feedback.sealing import keys_dir

# A server where tests may create databases; CI sets REQUIRE so that an unreachable server
# fails the run instead of skipping the PostgreSQL tests.
POSTGRES_URL = os.environ.get(
    "FEEDBACK360_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("FEEDBACK360_REQUIRE_POSTGRES") == "1"
# The database every test runs on unless it asks for one: `make test` runs the suite on
# SQLite, then the tests that use this database again on PostgreSQL.
SUITE_DATABASE = os.environ.get("FEEDBACK360_TEST_DATABASE", "sqlite")
if SUITE_DATABASE not in ("sqlite", "postgresql"):
    raise ValueError("FEEDBACK360_TEST_DATABASE must be 'sqlite' or 'postgresql'")
# Names this process's databases apart from those of the other test workers.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

# A test parametrised over these runs on both databases in the SQLite pass, so the
# PostgreSQL pass leaves it out (the `database` mark says so).
DATABASES = [
    pytest.param(name, marks=pytest.mark.database(name), id=name)
    for name in ("sqlite", "postgresql")
]


# pytest loads tests/conftest.py as `conftest` while the tests import it as `tests.conftest`:
# state that both copies must share lives here.
_running: list[pytest.Item] = []


@contextmanager
def running_test(item: pytest.Item) -> Iterator[None]:
    _running.append(item)
    try:
        yield
    finally:
        _running.pop()


def current_test() -> pytest.Item | None:
    """The test being set up, run or torn down."""
    return _running[-1] if _running else None


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once for the whole test process: each test's app would otherwise
    compile every template it renders again (a fifth of a page test's time). Jinja checks
    each template's source against what was compiled, so an edited template is compiled
    afresh."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


compiled_templates = _CompiledTemplates()


def suite_database_name() -> str:
    if SUITE_DATABASE == "postgresql":
        return f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}"
    return "SQLite"


# ---------------------------------------------------------------- SQLite


_sqlite_template: list[Path] = []


def sqlite_with_tables(path: Path) -> str:
    """A SQLite file at `path` holding every table, empty: a copy of one made once."""
    if not _sqlite_template:
        folder = Path(tempfile.mkdtemp(prefix="feedback360-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "tables.sqlite"
        engine = create_engine(f"sqlite:///{template}")
        db.metadata.create_all(engine)
        engine.dispose()
        _sqlite_template.append(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template[0], path)
    return f"sqlite:///{path}"


# ---------------------------------------------------------------- PostgreSQL


def _admin() -> Engine:
    """A connection to the test server for making databases; skips or fails if it is down."""
    server = make_url(POSTGRES_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {server.render_as_string()}: {error.orig}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return admin


def _run(statement: str) -> None:
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def _url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _drop(name: str) -> None:
    _run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_template: list[str] = []  # the database others copy their empty tables from


def _template_with_tables() -> str:
    if not _template:
        name = f"feedback360_template_{WORKER}_{uuid.uuid4().hex[:8]}"
        _run(f'CREATE DATABASE "{name}"')
        atexit.register(_drop, name)
        engine = create_engine(_url(name))
        db.metadata.create_all(engine)
        engine.dispose()
        _template.append(name)
    return _template[0]


@contextmanager
def postgres_database(*, tables: bool = False, copy_of: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of the test's own, dropped after: empty, with the app's tables,
    or a copy of the database at `copy_of` (which must have no connections open)."""
    if copy_of:
        template = f' TEMPLATE "{make_url(copy_of).database}"'
    else:
        template = f' TEMPLATE "{_template_with_tables()}"' if tables else ""
    name = f"feedback360_test_{WORKER}_{uuid.uuid4().hex[:12]}"
    _run(f'CREATE DATABASE "{name}"{template}')
    try:
        yield _url(name)
    finally:
        _drop(name)


# The catalogue's description of the tables: a test that changed it (a restore, `db
# upgrade` after `drop_all`) leaves a database that is made afresh rather than emptied.
_SCHEMA = """
SELECT string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod),
                  ',' ORDER BY c.relname, a.attnum)
       || '|' || (SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint
                  WHERE connamespace = 'public'::regnamespace)
FROM pg_attribute a
JOIN pg_class c ON a.attrelid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S')
  AND a.attnum > 0 AND NOT a.attisdropped
"""


class _WorkerDatabase:
    """This process's PostgreSQL database with every table, lent to one test at a time."""

    def __init__(self) -> None:
        self.name = ""
        self.schema = ""
        self.lent = False

    @contextmanager
    def lend(self) -> Iterator[str | None]:
        """The database, empty, or None while another app of the same test holds it."""
        if self.lent:
            yield None
            return
        self.lent = True
        try:
            yield self._emptied()
        finally:
            self.lent = False

    def _emptied(self) -> str:
        if not self.name:
            self._create()
        engine = create_engine(_url(self.name))
        try:
            with engine.begin() as connection:
                if connection.exec_driver_sql(_SCHEMA).scalar() != self.schema:
                    raise _SchemaChanged
                # Every app of the last test is gone; a connection it left must not block.
                connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
                empty_tables(connection)
        except (_SchemaChanged, OperationalError):
            engine.dispose()
            _drop(self.name)
            self._create()
        finally:
            engine.dispose()
        return _url(self.name)

    def _create(self) -> None:
        self.name = f"feedback360_test_{WORKER}_{uuid.uuid4().hex[:8]}"
        _run(f'CREATE DATABASE "{self.name}" TEMPLATE "{_template_with_tables()}"')
        atexit.register(_drop, self.name)
        engine = create_engine(_url(self.name))
        with engine.connect() as connection:
            self.schema = connection.exec_driver_sql(_SCHEMA).scalar() or ""
        engine.dispose()


class _SchemaChanged(Exception):
    pass


_worker_database = _WorkerDatabase()


@contextmanager
def postgres_with_tables() -> Iterator[str]:
    """An empty PostgreSQL database with every table: this process's own, or when a test
    holds that already, a new one."""
    with _worker_database.lend() as url:
        if url:
            yield url
            return
    with postgres_database(tables=True) as url:
        yield url


def empty_tables(connection: Connection, *, sequences: dict[str, int] | None = None) -> None:
    """Delete every row and start every id from 1 again, as in a new database (or, on
    PostgreSQL, from where `sequences` says)."""
    deletes = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]  # noqa: S608
    if connection.dialect.name == "sqlite":
        for statement in deletes:
            connection.exec_driver_sql(statement)
        if connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        ).first():
            connection.exec_driver_sql("DELETE FROM sqlite_sequence")
        return
    names = connection.exec_driver_sql(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    ).scalars()
    restarts = [
        f"SELECT setval('\"{name}\"', {int(sequences[name])})"
        if sequences and name in sequences
        else f'ALTER SEQUENCE "{name}" RESTART'
        for name in names
    ]
    # One round trip: PostgreSQL takes several statements at once when none has parameters.
    connection.exec_driver_sql("; ".join(deletes + restarts))


def empty_database(url: str) -> None:
    """Empty a database that outlives one test (one a module's worker process uses)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            empty_tables(connection)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Snapshot:
    """A database as it was: a copy of the SQLite file, or PostgreSQL's rows and sequences;
    and a copy of the answer keys that open what it holds sealed (kept outside it)."""

    answer_keys: Path
    sqlite_file: Path | None = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)


def _release(app: Flask) -> URL:
    """Close every connection (on SQLite this folds the write-ahead log back in)."""
    db.session.remove()
    db.engine.dispose()
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"])


def save_database(app: Flask, copy: Path) -> Snapshot:
    """Keep the app's database as it is now (a SQLite file is copied to `copy`), and its
    answer keys beside it."""
    url = _release(app)
    keys = copy.with_name(copy.name + "-answer-keys")
    if keys_dir().exists():
        shutil.copytree(keys_dir(), keys)
    else:
        keys.mkdir()
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(str(url.database), copy)
        return Snapshot(keys, sqlite_file=copy)
    with db.engine.connect() as connection:
        rows = {
            table.name: [dict(row._mapping) for row in connection.execute(table.select())]
            for table in db.metadata.sorted_tables
        }
        sequences = dict(
            connection.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            ).all()
        )
    return Snapshot(keys, rows=rows, sequences=sequences)


def restore_database(app: Flask, snapshot: Snapshot) -> None:
    """Put the database back as it was saved, so every example starts from the same world;
    its answer keys too (a test that closed a cycle destroyed one)."""
    db.session.remove()
    shutil.rmtree(keys_dir(), ignore_errors=True)
    shutil.copytree(snapshot.answer_keys, keys_dir())
    if snapshot.sqlite_file:
        url = _release(app)
        live = Path(str(url.database))
        for suffix in ("-wal", "-shm"):
            live.with_name(live.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(snapshot.sqlite_file, live)
        return
    with db.engine.begin() as connection:
        empty_tables(connection, sequences=snapshot.sequences)
        for table in db.metadata.sorted_tables:
            _insert(connection, table, snapshot.rows[table.name])


def _insert(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Rows back into a table; a reference to a row of the same table (a person's line
    manager) is set once every row is in."""
    if not rows:
        return
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    connection.execute(table.insert(), [{**row, **dict.fromkeys(own)} for row in rows])
    key = table.primary_key.columns.values()[0]
    for row in rows:
        if any(row[name] is not None for name in own):
            connection.execute(
                table.update().where(key == row[key.name]).values({name: row[name] for name in own})
            )
