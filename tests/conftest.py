"""Fixtures: an app on a fresh SQLite database per test, clients, and factories."""

from __future__ import annotations

import atexit
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from feedback360 import create_app
from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.frameworks.models import Framework
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.sqlite import looking_between_requests, whole_transactions

PASSWORD = "correct horse battery"
# A server where each test may create a database of its own; CI sets REQUIRE so that an
# unreachable server fails the run instead of skipping the PostgreSQL tests.
POSTGRES_URL = os.environ.get(
    "FEEDBACK360_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("FEEDBACK360_REQUIRE_POSTGRES") == "1"
# The database every test runs on unless it asks for one: `make test` runs the suite once
# on each.
SUITE_DATABASE = os.environ.get("FEEDBACK360_TEST_DATABASE", "sqlite")
if SUITE_DATABASE not in ("sqlite", "postgresql"):
    raise ValueError("FEEDBACK360_TEST_DATABASE must be 'sqlite' or 'postgresql'")


def _suite_database_name() -> str:
    if SUITE_DATABASE == "postgresql":
        return f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}"
    return "SQLite"


def pytest_report_header() -> str:
    return f"feedback360: the suite runs on {_suite_database_name()}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """A PostgreSQL run without a server stops at once, failing only where it is required."""
    if SUITE_DATABASE != "postgresql":
        return
    admin = create_engine(make_url(POSTGRES_URL))
    try:
        with admin.connect():
            pass
    except OperationalError as error:
        where = make_url(POSTGRES_URL).render_as_string()
        reason = f"PostgreSQL is not reachable at {where} ({error.orig})"
        if REQUIRE_POSTGRES:
            pytest.exit(f"{reason}: the PostgreSQL run is required here.", returncode=1)
        pytest.exit(f"{reason}: the suite ran on SQLite only.", returncode=0)
    finally:
        admin.dispose()


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.write_line(f"feedback360: this run was on {_suite_database_name()}")


def _postgres_admin() -> Engine:
    """A connection to the test server for creating databases; skips or fails if it is down."""
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


_tables_template: list[str] = []  # the database each test copies its empty tables from


def _template_with_tables(admin: Engine) -> str:
    """Made once per run: copying a database is quicker than creating every table again."""
    if not _tables_template:
        name = f"feedback360_template_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = create_engine(admin.url.set(database=name))
        db.metadata.create_all(engine)
        engine.dispose()
        _tables_template.append(name)
        atexit.register(_drop_database, admin.url, name)
    return _tables_template[0]


def _drop_database(server: URL, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def postgres_database(*, tables: bool = False, copy_of: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database for one test, dropped after: empty, with the app's tables,
    or a copy of the database at `copy_of` (which must have no connections open)."""
    admin = _postgres_admin()
    name = f"feedback360_test_{uuid.uuid4().hex[:12]}"
    if copy_of:
        template = f' TEMPLATE "{make_url(copy_of).database}"'
    else:
        template = f' TEMPLATE "{_template_with_tables(admin)}"' if tables else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{template}'))
    admin.dispose()
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin.url, name)


class BrowserLikeClient(FlaskClient):
    """Runs every request in a fresh app context, as a server does.

    The tests keep an app context open for their own database work; without this, requests
    would share its `g` (signed-in user, CSRF token) and its database session.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.application.app_context(), whole_transactions():
            return super().open(*args, **kwargs)


@contextmanager
def running_app(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    tables: bool = True,
    database: str | None = None,
    **overrides: object,
) -> Iterator[Flask]:
    """An app on a database of its own (the suite's, unless `database` says), context pushed.

    SQLite is a file in tmp_path; PostgreSQL a new database on the test server.
    """
    monkeypatch.setenv("FEEDBACK360_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("FEEDBACK360_CONFIG", raising=False)
    with ExitStack() as stack:
        if "SQLALCHEMY_DATABASE_URI" in overrides:
            url = str(overrides.pop("SQLALCHEMY_DATABASE_URI"))
        elif (database or SUITE_DATABASE) == "postgresql":
            url = stack.enter_context(postgres_database(tables=tables))
        else:
            url = f"sqlite:///{tmp_path / 'test.sqlite'}"
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": url,
                "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
                "BASE_URL": "http://localhost",
                **overrides,
            }
        )
        app.test_client_class = BrowserLikeClient
        with app.app_context(), looking_between_requests():
            if tables:
                db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app served on a free loopback port by a threaded server, as a browser meets it.

    Each request runs in the server's own thread and app context; the test keeps its own.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


DATABASES = ["sqlite", "postgresql"]


@contextmanager
def app_on(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on SQLite (the embedded default) or on a fresh PostgreSQL database."""
    with running_app(tmp_path, monkeypatch, database=database) as app:
        yield app


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    with running_app(tmp_path, monkeypatch) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def framework(app: Flask) -> Framework:
    loaded, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    db.session.commit()
    return loaded


@pytest.fixture
def make_person(app: Flask) -> Callable[..., Person]:
    def make(name: str = "Sam Taylor", email: str | None = None, **roles: bool) -> Person:
        email = email or f"{name.lower().replace(' ', '.')}@example.org"
        person = add_person(name, email, password=PASSWORD, **roles)
        db.session.commit()
        return person

    return make


@pytest.fixture
def open_cycle(framework: Framework) -> Callable[..., Cycle]:
    def make(name: str = "Spring 2026", **settings: object) -> Cycle:
        cycle = create_cycle(name, framework, **settings)  # type: ignore[arg-type]
        cycle.open()
        db.session.commit()
        return cycle

    return make


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def submit_form(client: FlaskClient, page: str, data: dict[str, str], action: str | None = None):  # type: ignore[no-untyped-def]
    """Open a page as a browser would and post its form with the page's CSRF token."""
    html = client.get(page).text
    return client.post(action or page, data={"csrf_token": csrf_token(html), **data})


def nominate_and_send(client: FlaskClient, request_page: str, raters):  # type: ignore[no-untyped-def]
    """Nominate each (name, email, group) on the request page, then send the invitations."""
    for name, email, group in raters:
        submit_form(
            client,
            request_page,
            {"name": name, "email": email, "group": group},
            action=f"{request_page}/nominations",
        )
    return submit_form(client, request_page, {}, action=f"{request_page}/invitations")


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return submit_form(client, "/sign-in", {"email": email, "password": password})


def outbox_messages(app: Flask) -> list[Message]:
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    return [message_from_bytes(path.read_bytes()) for path in sorted(outbox.glob("*.eml"))]


def text_of(message: Message) -> str:
    """A message's plain-text part (the whole body when it has only one)."""
    part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), message)
    return part.get_payload(decode=True).decode()  # type: ignore[union-attr]


def link_in(message: Message) -> str:
    """The path of the personal link in an invitation, as a rater would click it."""
    body = text_of(message)
    match = re.search(r"http://localhost(/r/[A-Za-z0-9_\-]+)", body)
    assert match, "the invitation holds no link"
    return match.group(1)


@pytest.fixture
def admin(app: Flask, make_person) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A browser signed in as Ada, an administrator."""
    make_person("Ada Admin", "ada@example.org", is_admin=True)
    browser = app.test_client()
    sign_in(browser, "ada@example.org")
    return browser


@pytest.fixture
def invited(app: Flask, make_person, open_cycle):  # type: ignore[no-untyped-def]
    """A subject in an open cycle who has invited five raters; returns their links by email.

    The subject uses a browser of their own, so the test's `client` stays a rater's.
    """
    client = app.test_client()

    def invite(groups: list[str] | None = None, **cycle_settings: object) -> dict[str, str]:
        groups = groups or ["peer"] * 5
        make_person("Sam Taylor", "sam@example.org")
        cycle = open_cycle(min_raters=len(groups), **cycle_settings)
        sign_in(client, "sam@example.org")
        request_page = submit_form(client, "/", {}, action=f"/cycles/{cycle.id}/request").location
        nominate_and_send(
            client,
            request_page,
            [(f"Rater {n}", f"rater{n}@example.org", group) for n, group in enumerate(groups, 1)],
        )
        links = {message["To"]: link_in(message) for message in outbox_messages(app)}
        return {
            f"rater{n}@example.org": links[f"rater{n}@example.org"]
            for n in range(1, len(groups) + 1)
        }

    return invite


def page_text(html: str) -> str:
    """The words a reader sees: tags dropped, white space folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
