"""Every route, as every role: a page or action is refused to anyone whose role does not allow
it, and to everyone on another person's objects (issue 5).

`RULES` says, for each endpoint, who may use it and how its URL is filled in. A route added
later without an entry there fails `test_every_route_has_a_decision`, so nobody can add a
page without deciding who may see it.

One small world is built once per module (building reports is slow) and each test works on
its own copy of that database, so what one test changes no other test sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback360.accounts.activation import issue_password_token
from feedback360.accounts.models import ImportJob, Person
from feedback360.accounts.services import add_person
from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import approvals, links, services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import FeedbackRequest, Invitation
from feedback360.frameworks.models import Framework
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.services import release_reports
from feedback360.timeutil import today
from tests.conftest import (
    PASSWORD,
    add_signed_up,
    csrf_token,
    nominate_colleague,
    running_app,
    sign_in,
)
from tests.databases import Snapshot, restore_database, save_database

pytestmark = pytest.mark.suite_database

ANONYMOUS, RATER = "anonymous", "rater"
STAFF, MANAGER, ADMIN = "staff member", "line manager", "administrator"
COACH, OTHER_COACH = "coach", "coach of someone else"
ROLES = (ANONYMOUS, RATER, STAFF, MANAGER, COACH, OTHER_COACH, ADMIN)
SIGNED_IN = (STAFF, MANAGER, COACH, OTHER_COACH, ADMIN)
EMAILS = {
    STAFF: "amy@example.org",
    MANAGER: "mo@example.org",
    COACH: "cora@example.org",
    OTHER_COACH: "otto@example.org",
    ADMIN: "ada@example.org",
}
MISSING = 999_999  # an id nothing has
WRONG_TOKEN = "no-such-link-" + "x" * 30


@dataclass(frozen=True)
class World:
    """Ids and links of the objects every test finds in its copy of the database.

    Amy (the staff member) reports to Mo and is coached by Cora; Ben reports to nobody and
    is coached by Otto. Ada administers.
    """

    spring: int  # closed, reports built and released
    summer: int  # open; staff send their own invitations
    autumn: int  # open; line managers approve nominations first
    amy: int
    ben: int
    amy_report: int  # Spring requests, each with a released report
    ben_report: int
    amy_request: int  # Summer requests, each with one nominee not invited yet
    ben_request: int
    amy_nominee: int
    ben_nominee: int
    amy_approval: int  # Autumn requests waiting for approval: Amy's by Mo, Ben's by Ada
    ben_approval: int
    amy_approval_nominee: int
    ben_approval_nominee: int
    live_link: str  # a rater of Amy's Summer request who has not answered yet
    answered_link: str
    declined_link: str
    closed_link: str  # a rater of Amy's Spring request who never answered
    password_link: str  # Nell, who has no password yet


# ---------------------------------------------------------------- the world, built once


def all_fours(framework: Framework) -> Answers:
    return Answers({statement.id: 4 for statement in framework.statements})


def nominate_peers(request: FeedbackRequest, count: int, start: int = 1) -> list[Invitation]:
    return [
        nominate_colleague(request, f"Peer {n}", f"peer{n}.{request.id}@example.org", "peer")
        for n in range(start, start + count)
    ]


def released_cycle(framework: Framework, amy: Person, ben: Person) -> tuple[Cycle, dict[str, Any]]:
    """Spring: both asked, three peers each answered, reports built and released."""
    cycle = create_cycle("Spring 2026", framework, threshold=3, min_raters=3, max_raters=6)
    cycle.open()
    requests = {}
    for person, peers in ((amy, 4), (ben, 3)):
        request = services.start_request(cycle, person)
        services.submit_self_assessment(request, all_fours(framework))
        nominate_peers(request, peers)
        services.send_invitations(request)
        for invitation in request.invitations[:3]:
            services.submit_rater_response(invitation, all_fours(framework))
        requests[person.email] = request
    # Amy's fourth rater never answered: their link now meets a closed cycle.
    silent = requests[amy.email].invitations[3]
    close_cycle(cycle)
    db.session.commit()
    build_cycle_reports(cycle)
    release_reports(cycle)
    return cycle, {
        "amy_report": requests[amy.email].id,
        "ben_report": requests[ben.email].id,
        "closed_link": links.rater_token(silent),
    }


def current_cycle(framework: Framework, amy: Person, ben: Person) -> tuple[Cycle, dict[str, Any]]:
    """Summer: both invited three peers and have a fourth nominee not invited yet."""
    cycle = create_cycle("Summer 2026", framework, threshold=3, min_raters=3, max_raters=6)
    cycle.open()
    found: dict[str, Any] = {}
    for person, key in ((amy, "amy"), (ben, "ben")):
        request = services.start_request(cycle, person)
        invited = nominate_peers(request, 3)
        services.send_invitations(request)
        found[f"{key}_request"] = request.id
        found[f"{key}_nominee"] = nominate_peers(request, 1, start=4)[0].id
        if key == "amy":
            live, answered, declined = invited
            services.submit_rater_response(answered, all_fours(framework))
            services.decline(declined)
            found["live_link"] = links.rater_token(live)
            found["answered_link"] = links.rater_token(answered)
            found["declined_link"] = links.rater_token(declined)
    return cycle, found


def approving_cycle(framework: Framework, amy: Person, ben: Person) -> tuple[Cycle, dict[str, Any]]:
    """Autumn: both lists wait for approval, Amy's by Mo and Ben's by an administrator."""
    cycle = create_cycle(
        "Autumn 2026", framework, threshold=3, min_raters=3, max_raters=6, manager_approves=True
    )
    cycle.open()
    found: dict[str, Any] = {}
    for person, key in ((amy, "amy"), (ben, "ben")):
        request = services.start_request(cycle, person)
        nominees = nominate_peers(request, 3)
        approvals.ask_for_approval(request)
        found[f"{key}_approval"] = request.id
        found[f"{key}_approval_nominee"] = nominees[0].id
    return cycle, found


def build_world() -> World:
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    add_signed_up("Ada Admin", EMAILS[ADMIN], is_admin=True)
    add_person("Dana New", "dana@example.org")  # on the staff list, to be nominated
    mo = add_person("Mo Manager", EMAILS[MANAGER], password=PASSWORD)
    cora = add_signed_up("Cora Coach", EMAILS[COACH], is_coach=True)
    otto = add_signed_up("Otto Coach", EMAILS[OTHER_COACH], is_coach=True)
    amy = add_person("Amy Staff", EMAILS[STAFF], password=PASSWORD, line_manager=mo)
    ben = add_person("Ben Staff", "ben@example.org", password=PASSWORD)
    nell = add_person("Nell New", "nell@example.org")
    amy.coach, ben.coach = cora, otto
    password_link = issue_password_token(nell)
    db.session.flush()

    spring, released = released_cycle(framework, amy, ben)
    summer, current = current_cycle(framework, amy, ben)
    autumn, waiting = approving_cycle(framework, amy, ben)
    db.session.commit()
    return World(
        spring=spring.id,
        summer=summer.id,
        autumn=autumn.id,
        amy=amy.id,
        ben=ben.id,
        password_link=password_link,
        **released,
        **current,
        **waiting,
    )


@pytest.fixture(scope="module")
def world_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, World]:
    """The world, built once per module on the suite's database, and saved."""
    folder = tmp_path_factory.mktemp("permissions_world")
    with pytest.MonkeyPatch.context() as monkeypatch, running_app(folder, monkeypatch) as app:
        world = build_world()
        return save_database(app, folder / "world.sqlite"), world


@pytest.fixture
def world(
    world_database: tuple[Snapshot, World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Flask, World]]:
    """An app on a fresh copy of the world's database."""
    snapshot, built = world_database
    with running_app(tmp_path, monkeypatch) as app:
        restore_database(app, snapshot)
        yield app, built


# ---------------------------------------------------------------- the expectation table

Args = Callable[[World], dict[str, Any]]


def no_args(w: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Rule:
    """Who may use an endpoint, on which objects, and what an allowed role posts.

    own: each allowed role, with the URL arguments naming its own object. Every other role
        is tried on each of those objects and must be refused.
    others: for an allowed role, objects that are someone else's (or nobody's): refused.
    form: what an allowed role posts (a refused role posts the same).
    link_is_the_key: the URL holds a personal link; whoever holds it is the allowed role,
        so the other roles are tried only on links that are not theirs.
    ends_session: signing out sends you to the sign-in page by design.
    """

    own: dict[str, Args]
    others: dict[str, list[Args]] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    link_is_the_key: bool = False
    ends_session: bool = False


def for_roles(roles: tuple[str, ...], args: Args = no_args) -> dict[str, Args]:
    return dict.fromkeys(roles, args)


def admin_only(args: Args = no_args, *, others: list[Args] | None = None, **form: str) -> Rule:
    return Rule(own={ADMIN: args}, others={ADMIN: others or []}, form=form)


def spring_cycle(w: World) -> dict[str, Any]:
    return {"cycle_id": w.spring}


def summer_cycle(w: World) -> dict[str, Any]:
    return {"cycle_id": w.summer}


def missing_cycle(w: World) -> dict[str, Any]:
    return {"cycle_id": MISSING}


def ben_person(w: World) -> dict[str, Any]:
    return {"person_id": w.ben}


def missing_person(w: World) -> dict[str, Any]:
    return {"person_id": MISSING}


def ended_import(w: World) -> dict[str, Any]:
    """An import job that was refused, made in the test's copy of the world when first named."""
    job = db.session.scalars(db.select(ImportJob)).first()
    if job is None:
        job = ImportJob(file_name="staff.csv", file_data=b"name,email\n")
        db.session.add(job)
        db.session.flush()  # queued, as the import page leaves it
        job.begin(os.getpid())
        job.refused(["Line 2: the name is missing."])
        db.session.commit()
    return {"job_id": job.id}


def missing_import(w: World) -> dict[str, Any]:
    return {"job_id": MISSING}


def admin_person(**form: str) -> Rule:
    return admin_only(ben_person, others=[missing_person], **form)


def staff_request(**form: str) -> Rule:
    """Amy's own Summer request; Ben's is someone else's."""
    return Rule(
        own={STAFF: lambda w: {"request_id": w.amy_request}},
        others={
            STAFF: [lambda w: {"request_id": w.ben_request}, lambda w: {"request_id": MISSING}]
        },
        form=form,
    )


def staff_report() -> Rule:
    """The subject reads their own released report, nobody else's."""
    return Rule(
        own={STAFF: lambda w: {"request_id": w.amy_report}},
        others={STAFF: [lambda w: {"request_id": w.ben_report}, lambda w: {"request_id": MISSING}]},
    )


def coachee_report(**form: str) -> Rule:
    """Cora reads Amy's report, Otto reads Ben's; neither reads the other's coachee's."""
    return Rule(
        own={
            COACH: lambda w: {"request_id": w.amy_report},
            OTHER_COACH: lambda w: {"request_id": w.ben_report},
        },
        others={
            COACH: [lambda w: {"request_id": w.ben_report}, lambda w: {"request_id": MISSING}],
            OTHER_COACH: [lambda w: {"request_id": w.amy_report}],
        },
        form=form,
    )


def approval(**form: str) -> Rule:
    """Mo approves Amy's list; Ada approves Ben's, who has no line manager; nobody else."""
    return Rule(
        own={
            MANAGER: lambda w: {"request_id": w.amy_approval},
            ADMIN: lambda w: {"request_id": w.ben_approval},
        },
        others={
            MANAGER: [lambda w: {"request_id": w.ben_approval}, lambda w: {"request_id": MISSING}],
            ADMIN: [lambda w: {"request_id": w.amy_approval}],
        },
        form=form,
    )


def rater_link(**form: str) -> Rule:
    return Rule(
        own={RATER: lambda w: {"token": w.live_link}},
        others={RATER: [lambda w: {"token": WRONG_TOKEN}]},
        form=form,
        link_is_the_key=True,
    )


NOMINEE = {"name": "Dana New", "email": "dana@example.org", "group": "peer"}

RULES: dict[str, Rule] = {
    # How answers are protected: for everyone, raters with no account included.
    "about.anonymity": Rule(own=for_roles(ROLES)),
    # Signing in and out, and the set-password link (the link is Nell's key).
    "accounts.sign_in": Rule(
        own=for_roles(ROLES), form={"email": "nobody@example.org", "password": "not it at all"}
    ),
    "accounts.sign_out": Rule(own=for_roles(SIGNED_IN), ends_session=True),
    # The signed-in page's script asks how long the session has left, and keeps it alive.
    "sessions.time_left": Rule(own=for_roles(SIGNED_IN)),
    "sessions.keep_alive": Rule(own=for_roles(SIGNED_IN)),
    "accounts.set_password": Rule(
        own={ANONYMOUS: lambda w: {"token": w.password_link}},
        others={ANONYMOUS: [lambda w: {"token": WRONG_TOKEN}]},
        form={"password": "short", "confirm": "short"},
        link_is_the_key=True,
    ),
    # The second step of signing in: whoever gave the right password just now; anyone
    # else is sent to sign in (or home, when signed in already).
    "second_factor.code": Rule(own=for_roles(ROLES), form={"code": "000000"}),
    "second_factor.set_up": Rule(own=for_roles(ROLES), form={"code": "000000"}),
    # Passwords: a link by mail for anyone who asks; changing it, for whoever is signed in.
    "passwords.forgot": Rule(own=for_roles(ROLES), form={"email": "nobody@example.org"}),
    "passwords.change": Rule(
        own=for_roles(SIGNED_IN),
        form={"current": "not it at all", "password": "a new long one", "confirm": "x"},
    ),
    # Single sign-on: anyone may start it and come back from the provider (here it is not
    # set up, so they are sent to the sign-in page; the signed-in go home). With a real
    # provider: tests/test_single_sign_on.py.
    "single_sign_on.start": Rule(own=for_roles(ROLES)),
    "single_sign_on.finish": Rule(own=for_roles(ROLES)),
    # Administration: administrators only.
    "admin.index": admin_only(),
    "admin.audit_log": admin_only(),
    "admin.cycles": admin_only(),
    "admin.new_cycle": admin_only(name=""),
    "admin.cycle": admin_only(summer_cycle, others=[missing_cycle]),
    "admin.cycle_settings": admin_only(summer_cycle, others=[missing_cycle]),
    "admin.confirm": admin_only(
        lambda w: {"cycle_id": w.summer, "action": "close"},
        others=[lambda w: {"cycle_id": MISSING, "action": "close"}],
    ),
    "admin.remind_cycle": admin_only(summer_cycle, others=[missing_cycle]),
    "admin.remind_request": admin_only(
        lambda w: {"cycle_id": w.summer, "request_id": w.amy_request},
        others=[
            lambda w: {"cycle_id": w.autumn, "request_id": w.amy_request},  # not that cycle's
            lambda w: {"cycle_id": w.summer, "request_id": MISSING},
        ],
    ),
    # Spring's reports are built: an administrator is told so, no build process starts.
    "admin.build_reports": admin_only(spring_cycle, others=[missing_cycle]),
    "admin.cycle_build_status": admin_only(spring_cycle, others=[missing_cycle]),
    "admin.retry_mail": admin_only(summer_cycle, others=[missing_cycle]),
    "admin.organisation_cycles": admin_only(),
    "admin.organisation": admin_only(spring_cycle, others=[missing_cycle]),
    "admin.organisation_csv": admin_only(spring_cycle, others=[missing_cycle]),
    "admin.people": admin_only(),
    "admin.people_import": admin_only(),
    # An import that was refused: its page can be seen; it cannot be started again.
    "admin.people_import_job": admin_only(ended_import, others=[missing_import]),
    "admin.people_import_job_status": admin_only(ended_import, others=[missing_import]),
    "admin.people_import_job_start_again": admin_only(ended_import, others=[missing_import]),
    "admin.people_import_job_discard": admin_only(ended_import, others=[missing_import]),
    "admin.person": admin_person(),
    "admin.person_coach": admin_person(coach=""),
    "admin.person_roles": admin_person(coach="y"),
    "admin.person_deactivate": admin_person(),
    "admin.person_reactivate": admin_person(),
    "admin.person_password_link": admin_person(),
    "admin.person_second_factor_clear": admin_person(),
    "admin.person_erase": admin_person(confirm_email="not-ben@example.org"),
    # Approving nominations: the subject's line manager, or an administrator if none.
    "approvals.index": Rule(own=for_roles(SIGNED_IN)),
    "approvals.show": approval(),
    "approvals.add_rater": approval(**NOMINEE),
    "approvals.approve": approval(),
    "approvals.remove_rater": Rule(
        own={
            MANAGER: lambda w: {
                "request_id": w.amy_approval,
                "invitation_id": w.amy_approval_nominee,
            },
            ADMIN: lambda w: {
                "request_id": w.ben_approval,
                "invitation_id": w.ben_approval_nominee,
            },
        },
        others={
            MANAGER: [
                lambda w: {"request_id": w.ben_approval, "invitation_id": w.ben_approval_nominee},
                # Amy's list with Ben's nominee in the address.
                lambda w: {"request_id": w.amy_approval, "invitation_id": w.ben_approval_nominee},
            ],
            ADMIN: [
                lambda w: {"request_id": w.amy_approval, "invitation_id": w.amy_approval_nominee},
                lambda w: {"request_id": w.ben_approval, "invitation_id": w.amy_approval_nominee},
            ],
        },
    ),
    # Coaches: their own coachees' released reports and debriefs.
    "coaching.index": Rule(own=for_roles((COACH, OTHER_COACH))),
    "coaching.show": coachee_report(),
    "coaching.download": coachee_report(),
    "coaching.debrief": coachee_report(
        held_on=today().isoformat(), private_note="Talked the blind spots through."
    ),
    # The staff member's own requests.
    "feedback.home": Rule(own=for_roles(SIGNED_IN)),
    "feedback.start_request": Rule(
        own=for_roles(SIGNED_IN, summer_cycle), others={STAFF: [missing_cycle]}
    ),
    "feedback.request_page": staff_request(),
    "feedback.self_assessment": staff_request(action="save"),
    "feedback.self_value_page": Rule(
        own={STAFF: lambda w: {"request_id": w.amy_request, "number": 1}},
        others={
            STAFF: [
                lambda w: {"request_id": w.ben_request, "number": 1},
                lambda w: {"request_id": MISSING, "number": 1},
            ]
        },
        form={"action": "save"},
    ),
    "feedback.self_summary": staff_request(action="submit"),
    "feedback.nominate": staff_request(**NOMINEE),
    "feedback.nominate_suggested": staff_request(),
    "feedback.remove_nomination": Rule(
        own={STAFF: lambda w: {"request_id": w.amy_request, "invitation_id": w.amy_nominee}},
        others={
            STAFF: [
                lambda w: {"request_id": w.ben_request, "invitation_id": w.ben_nominee},
                lambda w: {"request_id": w.amy_request, "invitation_id": w.ben_nominee},
            ]
        },
    ),
    "feedback.send_invitations": staff_request(),
    "feedback.ask_for_approval": staff_request(),
    # Raters: the personal link is the key, and it opens nothing else.
    "rater.start": rater_link(),
    "rater.form": rater_link(action="save"),
    "rater.value_page": Rule(
        own={RATER: lambda w: {"token": w.live_link, "number": 1}},
        others={RATER: [lambda w: {"token": WRONG_TOKEN, "number": 1}]},
        form={"action": "save"},
        link_is_the_key=True,
    ),
    "rater.summary": rater_link(action="submit"),
    "rater.decline": rater_link(),
    "rater.thanks": Rule(own=for_roles(ROLES)),
    "rater.declined": Rule(own=for_roles(ROLES)),
    # The subject's own released report.
    "reports.show": staff_report(),
    "reports.download": staff_report(),
}


# ---------------------------------------------------------------- browsing as each role


@dataclass
class Browser:
    """One role's browser, with a CSRF token from a page that role can load."""

    role: str
    client: FlaskClient
    token: str

    def call(self, method: str, path: str, form: dict[str, str]) -> TestResponse:
        if method == "GET":
            return self.client.get(path)
        return self.client.post(path, data={"csrf_token": self.token, **form})


def browser_for(app: Flask, world: World, role: str) -> Browser:
    client = app.test_client()
    if role in EMAILS:
        assert sign_in(client, EMAILS[role]).location == "/", f"{role} could not sign in"
        return Browser(role, client, csrf_token(client.get("/").text))
    if role == RATER:
        assert client.get(f"/r/{world.live_link}").status_code == 200
        return Browser(role, client, csrf_token(client.get(f"/r/{world.live_link}/form").text))
    return Browser(role, client, csrf_token(client.get("/sign-in").text))


def database_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read afresh: refused requests must change none of them."""
    db.session.rollback()
    return {
        table.name: [
            tuple(row)
            for row in db.session.execute(table.select().order_by(*table.primary_key.columns))
        ]
        for table in db.metadata.sorted_tables
    }


def methods_of(app: Flask, endpoint: str) -> list[str]:
    methods = set()
    for rule in app.url_map.iter_rules(endpoint):
        methods |= (rule.methods or set()) - {"HEAD", "OPTIONS"}
    return sorted(methods)  # GET before POST: look, then act


def sent_to_sign_in(response: TestResponse) -> bool:
    return response.status_code in (302, 303) and (response.location or "").startswith("/sign-in")


def assert_refused(response: TestResponse, role: str, what: str) -> None:
    if role in (ANONYMOUS, RATER) and sent_to_sign_in(response):
        return
    assert response.status_code in (403, 404), f"{what}: got {response.status_code}"


def assert_allowed(response: TestResponse, role: str, rule: Rule, what: str) -> None:
    status = response.status_code
    assert status not in (401, 403, 404), f"{what}: refused with {status}"
    assert status < 500, f"{what}: failed with {status}"
    if role in SIGNED_IN and not rule.ends_session:
        assert not sent_to_sign_in(response), f"{what}: sent to sign in"


# ---------------------------------------------------------------- the tests


def test_every_route_has_a_decision(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    undecided = sorted(endpoints - set(RULES))
    assert not undecided, f"say who may use these routes in RULES: {undecided}"
    assert not sorted(set(RULES) - endpoints), "RULES names routes that no longer exist"


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_each_role_may_use_only_what_its_role_allows(world, endpoint: str) -> None:
    app, w = world
    rule = RULES[endpoint]
    methods = methods_of(app, endpoint)
    browsers = {role: browser_for(app, w, role) for role in ROLES}

    def path(args: Args) -> str:
        with app.test_request_context():
            return url_for(endpoint, **args(w))

    owned = [] if rule.link_is_the_key else list(dict.fromkeys(map(path, rule.own.values())))
    not_anyones = [path(args) for others in rule.others.values() for args in others]
    before = database_rows()

    for role in ROLES:
        if role in rule.own:
            tried = [path(args) for args in rule.others.get(role, [])]
        else:
            tried = owned + not_anyones
        for url in tried:
            for method in methods:
                response = browsers[role].call(method, url, rule.form)
                assert_refused(response, role, f"{role}: {method} {url}")

    assert database_rows() == before, "a refused request changed the data"

    for role, args in rule.own.items():
        url = path(args)
        for method in methods:
            response = browsers[role].call(method, url, rule.form)
            assert_allowed(response, role, rule, f"{role}: {method} {url}")


def test_refused_actions_leave_the_objects_as_they_were(world) -> None:
    """Spot checks in words a user would notice: nothing refused happened."""
    app, w = world
    amy = browser_for(app, w, STAFF)
    mo = browser_for(app, w, MANAGER)
    cora = browser_for(app, w, COACH)

    # Amy cannot take a nominee off Ben's list, nor Mo approve Ben's, nor Cora deactivate Ben.
    ben_nominee = f"/requests/{w.ben_request}/nominations/{w.ben_nominee}/remove"
    assert amy.call("POST", ben_nominee, {}).status_code == 404
    assert mo.call("POST", f"/approvals/{w.ben_approval}/approve", {}).status_code == 404
    assert cora.call("POST", f"/admin/people/{w.ben}/deactivate", {}).status_code == 403

    db.session.expire_all()
    assert db.session.get(Invitation, w.ben_nominee) is not None
    assert db.session.get_one(FeedbackRequest, w.ben_approval).approval == "pending"
    assert db.session.get_one(Person, w.ben).active
    assert sign_in(app.test_client(), "ben@example.org").location == "/"


@pytest.mark.parametrize("link", ["answered_link", "declined_link", "closed_link"])
def test_a_used_or_closed_rater_link_is_gone_for_everyone(world, link: str) -> None:
    app, w = world
    token = getattr(w, link)
    for role in (ANONYMOUS, RATER, STAFF):
        browser = browser_for(app, w, role)
        for method, url in [
            ("GET", f"/r/{token}"),
            ("GET", f"/r/{token}/form"),
            ("POST", f"/r/{token}/form"),
            ("GET", f"/r/{token}/decline"),
            ("POST", f"/r/{token}/decline"),
        ]:
            response = browser.call(method, url, {"action": "save"})
            assert response.status_code == 410, f"{role}: {method} {url}"


def test_a_wrong_rater_link_is_not_found(world) -> None:
    app, w = world
    rater = browser_for(app, w, RATER)
    for url in (f"/r/{WRONG_TOKEN}", f"/r/{WRONG_TOKEN}/form", f"/r/{WRONG_TOKEN}/decline"):
        assert rater.call("GET", url, {}).status_code == 404, url
        if not url.endswith(WRONG_TOKEN):
            assert rater.call("POST", url, {}).status_code == 404, url


def test_a_rater_link_opens_no_signed_in_page(world) -> None:
    """Having answered on a personal link, the rater holds no session: even the subject's
    own pages ask them to sign in."""
    app, w = world
    rater = browser_for(app, w, RATER)
    assert rater.call("POST", f"/r/{w.live_link}/form", {"action": "save"}).status_code == 302
    for url in (
        "/",
        f"/requests/{w.amy_request}",
        f"/reports/{w.amy_report}/",
        "/coach/",
        f"/approvals/{w.amy_approval}",
        "/admin/",
    ):
        assert sent_to_sign_in(rater.call("GET", url, {})), url


# ---------------------------------------------------------------- CSRF, and GET never acts


def changed_tables(before: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    after = database_rows()
    return {name for name in after if after[name] != before.get(name)}


# What merely looking may record: the audit trail of who read or exported what, that a
# rater opened their link (so the subject's progress page can say "opened"), and the
# coach's PDF, rendered on its first download and kept.
AUDIT_TRAIL = {"audit_entry"}
LOOKING_RECORDS = {"rater.start": {"invitation"}, "coaching.download": {"report"}}


def test_no_state_changes_without_a_csrf_token_and_none_by_get(world) -> None:
    app, w = world
    browsers = {role: browser_for(app, w, role) for role in ROLES}
    for endpoint, rule in sorted(RULES.items()):
        methods = methods_of(app, endpoint)
        for role, args in list(rule.own.items())[:1]:
            with app.test_request_context():
                url = url_for(endpoint, **args(w))
            client = browsers[role].client
            before = database_rows()
            if "POST" in methods:
                response = client.post(url, data=rule.form)  # no csrf_token
                assert response.status_code == 400, f"{role}: POST {url} without a CSRF token"
                assert not changed_tables(before), f"POST {url} without a token changed data"
            if "GET" in methods and not rule.ends_session:
                client.get(url)
                changed = (
                    changed_tables(before) - AUDIT_TRAIL - LOOKING_RECORDS.get(endpoint, set())
                )
                assert not changed, f"GET {url} changed {sorted(changed)}"
