"""Fixtures: an app on a fresh SQLite database per test, clients, and factories."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from email import message_from_bytes
from email.message import Message
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pyotp
import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from feedback360 import create_app
from feedback360.accounts import second_factor
from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person, person_by_email
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.frameworks.models import Framework
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.reports import render
from feedback360.sqlite import looking_between_requests, whole_transactions
from feedback360.timeutil import utcnow
from tests.databases import (  # noqa: F401  (DATABASES and postgres_database: for the tests)
    DATABASES,
    POSTGRES_URL,
    REQUIRE_POSTGRES,
    SUITE_DATABASE,
    compiled_templates,
    current_test,
    postgres_database,
    postgres_with_tables,
    running_test,
    sqlite_with_tables,
    suite_database_name,
)
from tests.servers import feedback360_run, free_port, smtp_server_on

PASSWORD = "correct horse battery"
# A cheap hash for the tests' many sign-ins; test_enumeration keeps the production default.
TEST_PASSWORD_HASH = "pbkdf2:sha256:1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "database(name): runs on the named database in the SQLite pass only"
    )
    config.addinivalue_line(
        "markers",
        "suite_database: opens the suite's database without the app fixture (so the "
        "PostgreSQL pass runs it too)",
    )


def pytest_report_header() -> str:
    return f"feedback360: the suite runs on {suite_database_name()}"


def uses_suite_database(item: pytest.Item) -> bool:
    """Whether a test runs on the suite's database (the `app` fixture or the mark)."""
    if item.get_closest_marker("database"):
        return False
    return "app" in getattr(item, "fixturenames", ()) or bool(
        item.get_closest_marker("suite_database")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass runs only what uses the suite's database: what opens no database
    and what names its databases itself has run in full in the SQLite pass."""
    if SUITE_DATABASE != "postgresql":
        return
    others = [item for item in items if not uses_suite_database(item)]
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = [item for item in items if uses_suite_database(item)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    with running_test(item):
        return (yield)


def _check_suite_database_use() -> None:
    """A test that opens the suite's database unseen by the PostgreSQL pass fails here."""
    item = current_test()
    if item and not uses_suite_database(item):
        pytest.fail(
            f"{item.nodeid} opens the suite's database, but the PostgreSQL pass would leave "
            "it out: give it the `app` fixture or @pytest.mark.suite_database, or name its "
            "database (`database=`)",
            pytrace=False,
        )


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
    terminalreporter.write_line(f"feedback360: this run was on {suite_database_name()}")


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

    SQLite is a file in tmp_path; PostgreSQL this test process's database, emptied (see
    tests/databases.py).
    """
    monkeypatch.setenv("FEEDBACK360_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("FEEDBACK360_CONFIG", raising=False)
    with ExitStack() as stack:
        make_tables = False
        if "SQLALCHEMY_DATABASE_URI" in overrides:
            url = str(overrides.pop("SQLALCHEMY_DATABASE_URI"))
            make_tables = tables
        else:
            if database is None:
                _check_suite_database_use()
            url = stack.enter_context(_database(database or SUITE_DATABASE, tmp_path, tables))
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": url,
                "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
                "BASE_URL": "http://localhost",
                "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
                **overrides,
            }
        )
        app.test_client_class = BrowserLikeClient
        app.jinja_env.bytecode_cache = compiled_templates
        with app.app_context(), looking_between_requests():
            if make_tables:  # a database the caller made (ours come with their tables)
                db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()


@contextmanager
def _database(kind: str, tmp_path: Path, tables: bool) -> Iterator[str]:
    """The address of an empty database of the kind asked for, with or without tables."""
    if kind == "sqlite":
        path = tmp_path / "test.sqlite"
        yield sqlite_with_tables(path) if tables else f"sqlite:///{path}"
    elif tables:
        with postgres_with_tables() as url:
            yield url
    else:
        with postgres_database() as url:
            yield url


def _read_whole(app: Flask) -> Callable[..., list[bytes]]:
    """The app with each response read whole and closed before the server sends it.

    Werkzeug's server closes a response (a static file, say) only after sending it; when a
    browser drops the connection first, the file stays open until the garbage collector
    finds it, and its ResourceWarning then fails whichever test is running.
    """

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app served on a free loopback port by a threaded server, as a browser meets it.

    Each request runs in the server's own thread and app context; the test keeps its own.
    """
    server = make_server("127.0.0.1", 0, _read_whole(app), threaded=True)
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


@contextmanager
def app_on(
    database: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """An app on SQLite (the embedded default), PostgreSQL, or (None) the suite's database."""
    with running_app(tmp_path, monkeypatch, database=database) as app:
        yield app


@contextmanager
def served_by_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, str]]:
    """`feedback360 run` on a free port with BASE_URL unset, on a SQLite database where Sam
    Taylor has an account; yields the test's own app (for the outbox) and the address."""
    database = f"sqlite:///{tmp_path / 'site.sqlite'}"
    with running_app(tmp_path, monkeypatch, SQLALCHEMY_DATABASE_URI=database) as app:
        add_person("Sam Taylor", "sam.taylor@example.org", password="an old password")
        db.session.commit()
        outbox = app.config["MAIL_OUTBOX_DIR"]
        with feedback360_run(
            free_port(), SQLALCHEMY_DATABASE_URI=database, MAIL_OUTBOX_DIR=outbox, SECRET_KEY="test"
        ) as site:
            yield app, site


@pytest.fixture(scope="session", autouse=True)
def each_report_page_rendered_once() -> Iterator[None]:
    """WeasyPrint takes most of a second a report, and many tests build the same small
    cycle. A page this test process has rendered before gets the PDF made then: the real
    renderer's own output, keyed by the whole page it is made from. (Builds in worker
    processes render every time.)"""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(render, "pdf_of_page", cache(render.pdf_of_page))
        yield


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    with running_app(tmp_path, monkeypatch) as app:
        yield app


@pytest.fixture
def smtp_server() -> Iterator[Controller]:
    """A real SMTP server on loopback; what it is sent is in `.handler.envelopes`."""
    with smtp_server_on() as server:
        yield server


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


def add_signed_up(name: str, email: str, **details: Any) -> Person:
    """A person with the password PASSWORD and, if they need one, a second factor set up,
    as after their first sign-in (uncommitted)."""
    person = add_person(name, email, password=PASSWORD, **details)
    if second_factor.required_for(person):
        person.totp_secret = pyotp.random_base32()
    return person


@pytest.fixture
def make_person(app: Flask) -> Callable[..., Person]:
    def make(name: str = "Sam Taylor", email: str | None = None, **roles: bool) -> Person:
        email = email or f"{name.lower().replace(' ', '.')}@example.org"
        person = add_signed_up(name, email, **roles)
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


T = TypeVar("T")


def poll_until(check: Callable[[], T], *, timeout: float, what: str, every: float = 0.1) -> T:
    """check()'s first truthy answer, asked every tenth of a second (not a fixed sleep that
    must guess the slowest machine); fails saying what did not happen in time."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(every)
    return answer


BUILD_TIMEOUT = 300  # seconds; a shared machine can be slow to start WeasyPrint


def wait_for_the_build(admin: FlaskClient, dashboard: str) -> str:
    """Reload the dashboard, as its page does by itself, until the build has finished; then
    wait for the build's process to note its end, so that it writes nothing after the test."""

    def finished() -> str | None:
        text = page_text(admin.get(dashboard).text)
        return None if "The build is running." in text else text

    text = poll_until(finished, timeout=BUILD_TIMEOUT, what="the build", every=0.2)
    wait_for_the_build_process()
    return text


def wait_for_the_build_process() -> None:
    """Until no cycle's build process is alive (the dashboard shows a build finished once
    every report is kept, a moment before the process ends)."""

    def ended() -> bool:
        db.session.expire_all()  # see the build's commits
        return not any(cycle.build_running for cycle in db.session.scalars(db.select(Cycle)))

    poll_until(ended, timeout=BUILD_TIMEOUT, what="the build's process ending")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def submit_form(client: FlaskClient, page: str, data: dict[str, str], action: str | None = None):  # type: ignore[no-untyped-def]
    """Open a page as a browser would and post its form with the page's CSRF token."""
    html = client.get(page).text
    return client.post(action or page, data={"csrf_token": csrf_token(html), **data})


def on_staff_list(people) -> None:  # type: ignore[no-untyped-def]
    """Put each (name, email, ...) on the staff list unless it is there: raters come from it."""
    for name, email, *_ in people:
        if name.strip() and "@" in email and person_by_email(email) is None:
            add_person(name, email)
    db.session.commit()


def nominate_colleague(request, name: str, email: str, group: str):  # type: ignore[no-untyped-def]
    """The subject nominates a colleague from the staff list (put on it first if need be)."""
    on_staff_list([(name, email)])
    return services.nominate(request, name, email, group)


def nominate_on_page(client: FlaskClient, request_page: str, raters) -> None:  # type: ignore[no-untyped-def]
    """Nominate each (name, email, group), colleagues on the staff list, on the request page."""
    on_staff_list(raters)
    for name, email, group in raters:
        submit_form(
            client,
            request_page,
            {"name": name, "email": email, "group": group},
            action=f"{request_page}/nominations",
        )


def nominate_and_send(client: FlaskClient, request_page: str, raters):  # type: ignore[no-untyped-def]
    """Nominate as above, then send the invitations."""
    nominate_on_page(client, request_page, raters)
    return submit_form(client, request_page, {}, action=f"{request_page}/invitations")


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Sign in through the page, as the person would: an administrator or coach then types
    the code their authenticator app shows (set up first, if it is not yet)."""
    response = submit_form(client, "/sign-in", {"email": email, "password": password})
    step = response.headers.get("Location", "")
    if step.endswith("/sign-in/set-up"):
        html = client.get(step).text
        secret = re.search(r'class="setup-key">([A-Z2-7]+)<', html).group(1)  # type: ignore[union-attr]
        data = {"csrf_token": csrf_token(html), "code": pyotp.TOTP(secret).now()}
        return client.post(step, data=data)  # the page of recovery codes, signed in
    if step.endswith("/sign-in/code"):
        return submit_form(client, step, {"code": authenticator_code(email)})
    return response


def authenticator_code(email: str) -> str:
    """The code the person's authenticator app shows now, one not used before: when this
    half-minute's codes are spent, the test moves on as if the next had come."""
    db.session.expire_all()
    person = person_by_email(email)
    assert person is not None
    assert person.totp_secret is not None
    totp = pyotp.TOTP(person.totp_secret)
    # This half-minute's code, or the next one when it was used: both still work if the
    # half-minute turns before the server checks (it takes one step either side).
    now = totp.timecode(utcnow())
    last = person.totp_last_step
    step = now if last is None else max(now, last + 1)
    if step > now + 1:
        person.totp_last_step = now - 1
        db.session.commit()
        step = now
    return totp.generate_otp(step)


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


def mailed_password_link(app: Flask) -> str:
    """The whole set-password link in the first mail, waiting briefly for it."""
    deadline = time.monotonic() + 30
    while not outbox_messages(app):
        assert time.monotonic() < deadline, "no mail was written"
        time.sleep(0.1)
    match = re.search(r"https?://\S+/account/set-password/\S+", text_of(outbox_messages(app)[0]))
    assert match, "the mail holds no set-password link"
    return match.group(0)


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
        raters = [(f"Rater {n}", f"rater{n}@example.org", g) for n, g in enumerate(groups, 1)]
        on_staff_list(raters)
        # A rater in the line manager's group is Sam's recorded line manager (rule 10).
        manager = next((person_by_email(e) for _, e, g in raters if g == "line_manager"), None)
        make_person("Sam Taylor", "sam@example.org", line_manager=manager)
        cycle = open_cycle(min_raters=len(groups), **cycle_settings)
        sign_in(client, "sam@example.org")
        request_page = submit_form(client, "/", {}, action=f"/cycles/{cycle.id}/request").location
        nominate_and_send(client, request_page, raters)
        links = {message["To"]: link_in(message) for message in outbox_messages(app)}
        return {
            f"rater{n}@example.org": links[f"rater{n}@example.org"]
            for n in range(1, len(groups) + 1)
        }

    return invite


def page_text(html: str) -> str:
    """The words a reader sees: tags dropped, white space folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
