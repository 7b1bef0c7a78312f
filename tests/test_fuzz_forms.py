"""Hostile posts to every form, as the role that may use it: none fails, none refused changes
anything.

`TARGETS` names, for each endpoint that takes a POST, who posts, to which addresses and the
fields its form expects. Hypothesis then sends those fields missing, twice, of the wrong
kind, huge or not UTF-8, with names nobody knows, usually with a valid CSRF token. A route
added later that takes a POST without an entry fails `test_every_post_route_is_fuzzed`.

The world of tests/test_route_permissions.py is built once per module; each example starts
from a fresh copy of its database, so what one example changes the next never sees.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.frameworks.models import Framework, Statement, Value
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.groups import RATER_GROUPS
from feedback360.timeutil import today
from tests.conftest import (
    DATABASES,
    PASSWORD,
    app_on,
    csrf_token,
    page_text,
    running_app,
    sign_in,
    submit_form,
)
from tests.databases import Snapshot, restore_database, save_database
from tests.fuzz_helpers import (
    Rows,
    Tally,
    database_rows,
    judge,
    multipart,
    posts,
    rows_as_saved,
    send,
)
from tests.test_route_permissions import (
    ADMIN,
    ANONYMOUS,
    COACH,
    EMAILS,
    MANAGER,
    MISSING,
    RATER,
    STAFF,
    WRONG_TOKEN,
    World,
    build_world,
)

pytestmark = pytest.mark.suite_database

EXAMPLES = 20  # per endpoint: with the import fuzz, about 40 s of CPU on this machine

# ---------------------------------------------------------------- the world, built once


@dataclass(frozen=True)
class FuzzWorld:
    """The permission tests' world, a draft cycle, and the names that forms hold."""

    world: World
    draft: int
    former: int  # Dee, deactivated: someone to reactivate
    statements: list[int]
    values: list[int]
    people: list[int]
    frameworks: list[int]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, FuzzWorld]:
    folder = tmp_path_factory.mktemp("fuzz_world")
    with pytest.MonkeyPatch.context() as monkeypatch, running_app(folder, monkeypatch) as app:
        world = build_world()
        framework = db.session.scalars(db.select(Framework)).first()
        draft = create_cycle("Winter 2026", framework)
        former = add_person("Dee Parted", "dee@example.org")
        former.deactivate()
        db.session.commit()
        facts = FuzzWorld(
            world=world,
            draft=draft.id,
            former=former.id,
            statements=list(db.session.scalars(db.select(Statement.id))),
            values=list(db.session.scalars(db.select(Value.id))),
            people=list(db.session.scalars(db.select(Person.id))),
            frameworks=list(db.session.scalars(db.select(Framework.id))),
        )
        return save_database(app, folder / "pristine.sqlite"), facts


@dataclass
class Arena:
    """An app on a copy of the world, and a browser's session for each role that posts."""

    app: Flask
    pristine: Snapshot  # what restore_database puts back
    rows: Rows = field(repr=False)  # the pristine world's rows
    facts: FuzzWorld
    # Each role's session cookie and CSRF token, kept for the module: every arena's app has
    # the same secret key and a copy of the same database, so they stay valid.
    sessions: dict[str, tuple[str, str]] = field(repr=False)

    def browser(self, role: str) -> tuple[FlaskClient, str]:
        """A fresh browser holding the role's session, and its CSRF token."""
        if role not in self.sessions:
            self.sessions[role] = self._start_session(role)
        cookie, token = self.sessions[role]
        client = self.app.test_client()
        client.set_cookie("session", cookie)
        return client, token

    def _start_session(self, role: str) -> tuple[str, str]:
        client = self.app.test_client()
        if role in EMAILS:
            assert sign_in(client, EMAILS[role]).status_code == 302, f"{role} could not sign in"
            token = csrf_token(client.get("/").text)
        elif role == RATER:
            token = csrf_token(client.get(f"/r/{self.facts.world.live_link}/form").text)
        else:
            token = csrf_token(client.get("/sign-in").text)
        cookie = client.get_cookie("session")
        assert cookie is not None
        return cookie.value, token


SESSIONS: dict[str, tuple[str, str]] = {}


@pytest.fixture
def arena(
    pristine: tuple[Snapshot, FuzzWorld], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Arena]:
    snapshot, facts = pristine
    with running_app(tmp_path, monkeypatch) as app:
        restore_database(app, snapshot)
        yield Arena(app, snapshot, database_rows(), facts, SESSIONS)


# ---------------------------------------------------------------- what each form expects

Fields = Callable[[FuzzWorld], Mapping[str, Sequence[str]]]
Urls = Callable[[FuzzWorld], list[dict[str, object]]]
RATINGS = ["1", "2", "3", "4", "5", "na", "0", "6", "-1", "4.0", " 3"]
MOVES = ["save", "submit", "autosave", "next", "previous", "summary", "value-2", "value-99"]


@dataclass(frozen=True)
class Target:
    """Who posts to an endpoint, the addresses they post to, and the fields of its form."""

    role: str
    urls: Urls
    fields: Fields = lambda facts: {}  # noqa: E731  (a button: only the CSRF token)


def rating_fields(facts: FuzzWorld) -> dict[str, list[str]]:
    """A whole rating form: every statement, every value's comment, and the button."""
    fields: dict[str, list[str]] = {f"s{sid}": RATINGS for sid in facts.statements}
    fields |= {f"c{vid}": ["", "Kind and fair.", "x" * 5001] for vid in facts.values}
    return fields | {"action": MOVES}


def nominee(facts: FuzzWorld) -> dict[str, list[str]]:
    return {
        "name": ["Dana New", "", " "],
        "email": ["dana@example.org", "amy@example.org", "peer1.x@example.org", "not-an-email"],
        "group": [*RATER_GROUPS, "self", "boss", ""],
    }


def cycle_fields(facts: FuzzWorld) -> dict[str, list[str]]:
    day = today()
    return {
        "name": ["Autumn 2027", "", "Spring 2026"],
        "framework_id": [*map(str, facts.frameworks), str(MISSING)],
        "opens_on": [day.isoformat(), "", "2026-02-30", "31/12/2026"],
        "closes_on": [day.replace(year=day.year + 1).isoformat(), "", "1999-01-01"],
        "rater_groups": ["peer", *RATER_GROUPS, "self", "everyone"],
        "min_raters": ["3", "0", "7"],
        "max_raters": ["6", "2", "10001"],
        "threshold": ["3", "1", "2"],
        "manager_identifiable": ["y", ""],
        "manager_approves": ["y", ""],
        "outside_raters": ["y", ""],
        "release_mode": ["coach_first", "together", "never"],
        "retention_days": ["365", "0", "36501"],
    }


def suggestions(facts: FuzzWorld) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for pid in facts.people:
        fields |= {f"ask_{pid}": ["y", ""], f"group_{pid}": [*RATER_GROUPS, "self"]}
    return fields


def at(**args: Callable[[FuzzWorld], object]) -> Urls:
    return lambda facts: [{name: pick(facts) for name, pick in args.items()}]


def amy_request(facts: FuzzWorld) -> list[dict[str, object]]:
    return [{"request_id": facts.world.amy_request}]


def live_link(facts: FuzzWorld) -> list[dict[str, object]]:
    return [{"token": facts.world.live_link}]


def ben(facts: FuzzWorld) -> list[dict[str, object]]:
    return [{"person_id": facts.world.ben}]


def nobody(facts: FuzzWorld) -> list[dict[str, object]]:
    return [{}]


def each_cycle(facts: FuzzWorld) -> list[dict[str, object]]:
    w = facts.world
    return [{"cycle_id": cycle} for cycle in (facts.draft, w.spring, w.summer, w.autumn)]


def value_pages(key: str, ident: Callable[[FuzzWorld], object]) -> Urls:
    return lambda facts: [{key: ident(facts), "number": n} for n in (1, 2, len(facts.values))]


CODES = ["123456", "abcde-fghij", "", "1" * 41]

TARGETS: dict[str, Target] = {
    "accounts.sign_in": Target(
        ANONYMOUS,
        nobody,
        lambda facts: {
            "email": [*EMAILS.values(), "nobody@example.org"],
            "password": ["correct horse battery", "wrong"],
        },
    ),
    "accounts.sign_out": Target(STAFF, nobody),
    "sessions.keep_alive": Target(STAFF, nobody),
    "accounts.set_password": Target(
        ANONYMOUS,
        lambda facts: [{"token": facts.world.password_link}, {"token": WRONG_TOKEN}],
        lambda facts: {
            "password": ["a long enough password", "short"],
            "confirm": ["a long enough password", "other"],
        },
    ),
    "passwords.forgot": Target(
        ANONYMOUS,
        nobody,
        lambda facts: {"email": [*EMAILS.values(), "nobody@example.org", "not-an-email"]},
    ),
    "passwords.change": Target(
        STAFF,
        nobody,
        lambda facts: {
            "current": [PASSWORD, "wrong"],
            "password": ["a brand new passphrase", "short", "password1234"],
            "confirm": ["a brand new passphrase", "other"],
        },
    ),
    # Without a right password just given, both send the browser back to signing in; with
    # one, tests/test_second_factor.py sends them hostile codes.
    "second_factor.code": Target(ANONYMOUS, nobody, lambda facts: {"code": CODES}),
    "second_factor.set_up": Target(ANONYMOUS, nobody, lambda facts: {"code": CODES}),
    # Single sign-on is not set up in this world; tests/test_single_sign_on.py fuzzes it
    # against a real provider.
    "single_sign_on.start": Target(ANONYMOUS, nobody, lambda facts: {"next": ["/", "//x"]}),
    "admin.new_cycle": Target(ADMIN, nobody, cycle_fields),
    "admin.cycle_settings": Target(ADMIN, each_cycle, cycle_fields),
    "admin.confirm": Target(
        ADMIN,
        lambda facts: [
            {"cycle_id": facts.draft, "action": "open"},
            {"cycle_id": facts.world.summer, "action": "close"},
            {"cycle_id": facts.world.spring, "action": "release-to-coaches"},
            {"cycle_id": facts.world.summer, "action": "release"},
        ],
    ),
    "admin.remind_cycle": Target(ADMIN, each_cycle),
    "admin.remind_request": Target(
        ADMIN, at(cycle_id=lambda f: f.world.summer, request_id=lambda f: f.world.amy_request)
    ),
    "admin.build_reports": Target(ADMIN, each_cycle),
    "admin.retry_mail": Target(ADMIN, each_cycle),
    "admin.people_import": Target(
        ADMIN, nobody, lambda facts: {"file": ["name,email\n"], "full_list": ["y", ""]}
    ),
    # The world has no import job: tests/test_import_job.py presses these on real ones.
    "admin.people_import_job_start_again": Target(ADMIN, lambda facts: [{"job_id": 1}]),
    "admin.people_import_job_discard": Target(ADMIN, lambda facts: [{"job_id": 1}]),
    "admin.person_coach": Target(
        ADMIN, ben, lambda facts: {"coach": ["", *map(str, facts.people)]}
    ),
    "admin.person_roles": Target(ADMIN, ben, lambda facts: {"admin": ["y"], "coach": ["y"]}),
    "admin.person_deactivate": Target(ADMIN, ben),
    "admin.person_reactivate": Target(
        ADMIN, lambda facts: [{"person_id": facts.world.ben}, {"person_id": facts.former}]
    ),
    "admin.person_password_link": Target(ADMIN, ben),
    "admin.person_second_factor_clear": Target(
        ADMIN, lambda facts: [{"person_id": person} for person in facts.people[:4]]
    ),
    "admin.person_erase": Target(
        ADMIN, ben, lambda facts: {"confirm_email": ["ben@example.org", "BEN@example.org "]}
    ),
    "approvals.add_rater": Target(MANAGER, at(request_id=lambda f: f.world.amy_approval), nominee),
    "approvals.approve": Target(MANAGER, at(request_id=lambda f: f.world.amy_approval)),
    "approvals.remove_rater": Target(
        MANAGER,
        at(
            request_id=lambda f: f.world.amy_approval,
            invitation_id=lambda f: f.world.amy_approval_nominee,
        ),
    ),
    "coaching.debrief": Target(
        COACH,
        at(request_id=lambda f: f.world.amy_report),
        lambda facts: {
            "held_on": [today().isoformat(), "14/03/2026", "2999-01-01", "tomorrow"],
            "private_note": ["Talked the blind spots through.", ""],
        },
    ),
    "feedback.start_request": Target(STAFF, each_cycle),
    "feedback.self_assessment": Target(STAFF, amy_request, rating_fields),
    "feedback.self_value_page": Target(
        STAFF, value_pages("request_id", lambda f: f.world.amy_request), rating_fields
    ),
    "feedback.self_summary": Target(STAFF, amy_request, lambda facts: {"action": MOVES}),
    "feedback.nominate": Target(STAFF, amy_request, nominee),
    "feedback.nominate_suggested": Target(STAFF, amy_request, suggestions),
    "feedback.remove_nomination": Target(
        STAFF,
        at(request_id=lambda f: f.world.amy_request, invitation_id=lambda f: f.world.amy_nominee),
    ),
    "feedback.send_invitations": Target(STAFF, amy_request),
    "feedback.ask_for_approval": Target(STAFF, amy_request),
    "rater.form": Target(RATER, live_link, rating_fields),
    "rater.value_page": Target(
        RATER, value_pages("token", lambda f: f.world.live_link), rating_fields
    ),
    "rater.summary": Target(RATER, live_link, lambda facts: {"action": MOVES}),
    "rater.decline": Target(RATER, live_link, lambda facts: {"reason": ["Too busy."]}),
}

# Summary pages act only on their submit button; any other post shows the page again.
ASKS_NOTHING_WITHOUT_SUBMIT = {"feedback.self_summary", "rater.summary"}
TALLIES: dict[str, Tally] = {}


# ---------------------------------------------------------------- the tests


def erase_page(make_person) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    ben = make_person("Ben Staff", "ben@example.org")
    return f"/admin/people/{ben.id}/erase", ben.id


def test_a_file_sent_in_a_text_box_is_refused_with_a_message(admin, make_person) -> None:  # type: ignore[no-untyped-def]
    """Found by fuzzing: a text field given an uploaded file failed with a server error."""
    page, ben = erase_page(make_person)
    token = csrf_token(admin.get(page).text)
    typed_as_a_file = (io.BytesIO(b"ben@example.org"), "email.txt")
    response = admin.post(page, data={"csrf_token": token, "confirm_email": typed_as_a_file})
    assert response.status_code == 400
    assert "Type the person’s email address to confirm." in page_text(response.text)
    assert not db.session.get_one(Person, ben).is_erased


@pytest.mark.parametrize("database", DATABASES)
def test_a_nul_character_is_refused_before_it_reaches_the_database(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found while fuzzing: SQLite stores a NUL character, PostgreSQL refuses it mid-request
    and the person met a server error."""
    with app_on(database, tmp_path, monkeypatch) as app:
        framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
        add_person("Sam Taylor", "sam@example.org", password=PASSWORD)
        cycle = create_cycle("Spring 2026", framework)
        cycle.open()
        db.session.commit()
        sam = app.test_client()
        sign_in(sam, "sam@example.org")
        page = submit_form(sam, "/", {}, action=f"/cycles/{cycle.id}/request").location
        nominee = {"name": "Dana\x00New", "email": "dana@example.org", "group": "peer"}
        response = submit_form(sam, page, nominee, action=f"{page}/nominations")
        assert response.status_code == 400
        assert "cannot be stored" in page_text(response.text)
        assert "Dana" not in page_text(sam.get(page).text)
        stranger = app.test_client()
        sign_in_with_nul = {"email": "x\x00@example.org", "password": "x"}
        response = submit_form(stranger, "/sign-in", sign_in_with_nul)
        assert response.status_code == 400
        assert stranger.get("/sign-in?next=/%00").status_code == 400


@pytest.mark.parametrize("body", [{"confirm_email": 5}, {"confirm_email": ["a", "b"]}, [1, 2]])
def test_a_json_body_is_not_taken_for_the_form(admin, make_person, body) -> None:  # type: ignore[no-untyped-def]
    """Found by fuzzing: JSON numbers, lists or a JSON array reached the fields and failed
    with a server error; a script that sends JSON gets the form's messages instead."""
    page, ben = erase_page(make_person)
    token = csrf_token(admin.get(page).text)
    response = admin.post(page, json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert "Type the person’s email address to confirm." in page_text(response.text)
    assert not db.session.get_one(Person, ben).is_erased


def test_a_form_field_without_a_readable_name_is_no_server_error(admin) -> None:  # type: ignore[no-untyped-def]
    """Found by fuzzing: a multipart part named `"\\"` reaches the app with no name at all, and
    the check for unstorable characters failed on it with a server error."""
    token = csrf_token(admin.get("/admin/cycles/new").text)
    body, headers = multipart([(b"csrf_token", token.encode()), (b"\\", b"")])
    response = send(admin, "/admin/cycles/new", body, headers)
    assert response.status_code == 400
    assert 'role="alert"' in response.text  # the form again, saying what is missing


@pytest.mark.parametrize(
    "path",
    ["/admin/people/99999999999999999999", "/reports/2147483648/", "/admin/cycles/4294967296"],
)
def test_an_id_too_large_for_the_database_is_not_found(admin, path: str) -> None:  # type: ignore[no-untyped-def]
    assert admin.get(path).status_code == 404


def test_every_post_route_is_fuzzed(app: Flask) -> None:
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    unfuzzed = sorted(posting - set(TARGETS))
    assert not unfuzzed, f"say in TARGETS who posts to these routes and what: {unfuzzed}"
    assert not sorted(set(TARGETS) - posting), "TARGETS names routes that take no POST"


@pytest.mark.parametrize("endpoint", sorted(TARGETS))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(data=st.data())
def test_no_post_fails_and_a_refused_one_changes_nothing(
    arena: Arena, endpoint: str, data: st.DataObject
) -> None:
    target = TARGETS[endpoint]
    client, token = arena.browser(target.role)
    # Read afresh each time: reusing one reading made Hypothesis report every failure as
    # "inconsistent data generation" (cause not found), hiding the real message.
    before = rows_as_saved(arena.app, arena.pristine, arena.rows)
    args = data.draw(st.sampled_from(target.urls(arena.facts)), label="address")
    post = data.draw(posts(target.fields(arena.facts)), label="post")
    with arena.app.test_request_context():
        path = url_for(endpoint, **args)
    body, headers = post.body(token)
    response = send(client, path, body, headers)
    tally = TALLIES.setdefault(endpoint, Tally())
    quiet = endpoint in ASKS_NOTHING_WITHOUT_SUBMIT
    judge(response, client, before, f"{target.role}: POST {path}", tally, page_again_is_fine=quiet)


@pytest.fixture(scope="module", autouse=True)
def report_tallies(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module, one line per endpoint: how many posts were accepted and refused."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None or not TALLIES:
        return
    with capture.global_and_fixture_disabled():
        print()
        for endpoint, tally in sorted(TALLIES.items()):
            statuses = ", ".join(f"{code}×{n}" for code, n in sorted(tally.statuses.items()))
            print(
                f"fuzz {endpoint}: {tally.accepted} accepted, {tally.refused} refused ({statuses})"
            )
