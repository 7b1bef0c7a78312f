"""Issue 16: every page of every role, in every state of a cycle, read in real Chromium at
320, 375 and 1280 pixels: axe finds nothing at all and no page scrolls sideways.

Which pages a role may see, and the URL of each, come from the table of
tests/test_route_permissions.py (`RULES`), on its world (Spring released, Summer open,
Autumn awaiting approval). This module adds what that world lacks: a draft cycle and a
closed one whose reports are not built, and visits the pages that change with a cycle's
state once in each. A GET route that no role reaches here, and that is not a download or
otherwise named in NOT_PAGES, fails the tour: a new page cannot go unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from feedback360.accounts.services import add_person
from feedback360.closing import close_cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.frameworks.models import Framework
from feedback360.models import Person
from tests.browser.conftest import CSP_WATCH, Visits
from tests.conftest import PASSWORD, authenticator_code, running_app, serving
from tests.test_route_permissions import (
    ADMIN,
    ANONYMOUS,
    COACH,
    EMAILS,
    MANAGER,
    MISSING,
    RATER,
    ROLES,
    RULES,
    STAFF,
    WRONG_TOKEN,
    World,
    all_fours,
    build_world,
    methods_of,
    nominate_peers,
)

pytestmark = pytest.mark.suite_database

# The roles the tour takes. The coach of someone else sees the same pages as the coach.
TOUR_ROLES = (ANONYMOUS, RATER, ADMIN, STAFF, MANAGER, COACH)
# Pages the permissions table opens to every role (how answers are protected, a rater's
# thanks) are the same page for each but for the header: each is checked once signed out and
# once signed in, by the administrator, whose header has every link. The other roles still
# visit them (their headers are checked on each of their own pages).
EVERYONES = {endpoint for endpoint, rule in RULES.items() if set(rule.own) >= set(ROLES)}

# GET routes that are not pages to read, with why.
NOT_PAGES = {
    "static": "style sheets and scripts, checked as part of every page",
    # Downloads: a PDF or CSV file, not a page.
    "admin.organisation_csv": "a CSV file",
    "coaching.download": "a PDF file",
    "reports.download": "a PDF file",
    # The build part of the dashboard alone, which the dashboard's script fetches to update
    # itself in place: checked as part of the dashboard.
    "admin.cycle_build_status": "a part of a page",
    # Likewise the import job's progress, fetched by its page: checked as part of that page.
    "admin.people_import_job_status": "a part of a page",
    # The single sign-on provider's return: it only ever redirects (to sign in or home).
    "single_sign_on.finish": "redirects only",
    # JSON for the script that warns before a session times out (static/session_timeout.js).
    "sessions.time_left": "JSON",
}


@dataclass(frozen=True)
class States:
    """The cycle states the permissions world lacks, and who can show them."""

    winter: int  # a draft cycle, not open yet
    harvest: int  # closed, its reports not built yet; enough answers for the organisation
    amy_harvest: int  # Amy's request in it, with three answers
    new_coach: str  # a coach who has not set up a second step for signing in


def more_states(w: World) -> States:
    framework = db.session.scalars(select(Framework)).first()
    assert framework is not None
    winter = create_cycle("Winter 2026", framework, threshold=3, min_raters=3, max_raters=6)
    harvest = create_cycle("Harvest 2025", framework, threshold=3, min_raters=3, max_raters=6)
    harvest.open()
    # Three people with three answers each: the organisation summary then shows its tables.
    cal = add_person("Cal Staff", "cal@example.org", password=PASSWORD)
    subjects = [db.session.get_one(Person, w.amy), db.session.get_one(Person, w.ben), cal]
    requests = [services.start_request(harvest, person) for person in subjects]
    for request in requests:
        services.submit_self_assessment(request, all_fours(framework))
        nominate_peers(request, 3)
        services.send_invitations(request)
        for invitation in request.invitations:
            services.submit_rater_response(invitation, all_fours(framework))
    close_cycle(harvest)
    add_person("Sid Coach", "sid@example.org", password=PASSWORD, is_coach=True)
    db.session.commit()
    return States(winter.id, harvest.id, requests[0].id, "sid@example.org")


@dataclass(frozen=True)
class Site:
    app: Flask
    world: World
    states: States


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The permissions world and the states it lacks, built once and served for the module
    (the tour only looks, so no test changes what another sees)."""
    folder = tmp_path_factory.mktemp("page_tour")
    with pytest.MonkeyPatch.context() as monkeypatch, running_app(folder, monkeypatch) as app:
        world = build_world()
        states = more_states(world)
        with serving(app):
            yield Site(app, world, states)


# ---------------------------------------------------------------- what each role visits


@dataclass(frozen=True)
class Visit:
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)
    status: int = 200  # an error page is a page too
    label: str = ""  # says which state, in the screenshot's name


def cycle_pages(endpoint: str, cycles: dict[str, int], **args: Any) -> list[Visit]:
    return [Visit(endpoint, {"cycle_id": i, **args}, label=name) for name, i in cycles.items()]


def extra_visits(role: str, w: World, s: States) -> list[Visit]:
    """Beyond each role's own objects in RULES: the pages that change with a cycle's state,
    in each state, and the error pages each role meets."""
    cycles = {
        "released": w.spring,
        "open": w.summer,
        "approving": w.autumn,
        "draft": s.winter,
        "closed": s.harvest,
    }
    if role == ANONYMOUS:
        return [
            Visit("accounts.set_password", {"token": WRONG_TOKEN}, 404, "wrong-link"),
        ]
    if role == RATER:
        return [
            Visit("rater.start", {"token": w.answered_link}, 410, "answered"),
            Visit("rater.start", {"token": w.declined_link}, 410, "declined"),
            Visit("rater.start", {"token": w.closed_link}, 410, "closed"),
            Visit("rater.start", {"token": WRONG_TOKEN}, 404, "wrong"),
        ]
    if role == STAFF:
        return [
            Visit("feedback.request_page", {"request_id": w.amy_report}, label="released"),
            Visit("feedback.request_page", {"request_id": w.amy_approval}, label="approving"),
            Visit("feedback.request_page", {"request_id": s.amy_harvest}, label="closed"),
            Visit("feedback.self_assessment", {"request_id": w.amy_approval}, label="approving"),
            Visit("admin.index", status=403, label="refused"),
            Visit("feedback.request_page", {"request_id": w.ben_request}, 404, "not-hers"),
        ]
    if role == ADMIN:
        confirms = [
            ("open", s.winter),
            ("close", w.autumn),
            ("release-to-coaches", s.harvest),
            ("release-to-staff", s.harvest),
            ("release", s.harvest),
        ]
        return [
            *cycle_pages("admin.cycle", cycles),
            *cycle_pages("admin.cycle_settings", cycles),
            *[Visit("admin.confirm", {"cycle_id": c, "action": a}, label=a) for a, c in confirms],
            # Each way of showing the summary, on a cycle with enough answers to show it.
            Visit("admin.organisation", {"cycle_id": s.harvest}, label="heat-map"),
            Visit("admin.organisation", {"cycle_id": s.harvest, "show": "table"}, label="counts"),
            Visit("admin.person", {"person_id": w.amy}, label="amy"),
            Visit("admin.cycle", {"cycle_id": MISSING}, 404, "missing"),
        ]
    return []


def tour_of(app: Flask, role: str, w: World, s: States) -> list[Visit]:
    own = [
        Visit(endpoint, rule.own[role](w))
        for endpoint, rule in sorted(RULES.items())
        if role in rule.own and "GET" in methods_of(app, endpoint) and endpoint not in NOT_PAGES
    ]
    return own + extra_visits(role, w, s)


# ---------------------------------------------------------------- the browser


def open_page(chromium, app: Flask, width: int = 1280):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        base_url=app.config["BASE_URL"], viewport={"width": width, "height": 800}
    )
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)  # what the Content-Security-Policy blocks, for check
    return context.new_page()


def password_step(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_in(page, email: str, at_the_code: Callable[[], None] = lambda: None) -> None:  # type: ignore[no-untyped-def]
    """Sign in as the person would; `at_the_code` runs on the second step's page, if any."""
    password_step(page, email)
    if urlsplit(page.url).path == "/sign-in/code":
        at_the_code()
        page.get_by_label("Code", exact=True).fill(authenticator_code(email))
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def endpoint_at(app: Flask, url: str) -> str | None:
    """The endpoint of the page the browser is on (None for a page no route has)."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(url).path)
    except HTTPException:
        return None
    return str(endpoint)


@dataclass
class Tour:
    """One role's tour: the endpoints whose pages it read, and what was wrong with them."""

    app: Flask
    visits: Visits
    signed_in: bool
    everyones_checked: set[tuple[str, bool]]  # shared by the tours of every role
    reached: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    visited: set[str] = field(default_factory=set)

    def check_here(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        """Check the page the browser is on, once per address."""
        if page.url in self.checked:
            return
        self.checked.add(page.url)
        try:
            self.visits.check(page, name)
        except AssertionError as problem:
            self.problems.append(str(problem).split("\nassert ")[0])  # not pytest's echo

    def go(self, page, visit: Visit) -> None:  # type: ignore[no-untyped-def]
        with self.app.test_request_context():
            url = url_for(visit.endpoint, **visit.args)
        response = page.goto(url)
        assert response is not None
        if response.status != visit.status:
            self.problems.append(f"{url} answered {response.status}, not {visit.status}")
            return
        landed = endpoint_at(self.app, page.url)
        self.visited.add(page.url)
        if visit.status == 200 and landed:
            # A page this role is sent on from (signing in, when signed in) counts as where
            # it lands.
            self.reached.add(landed)
        if landed in EVERYONES:
            if (landed, self.signed_in) in self.everyones_checked:
                return
            self.everyones_checked.add((landed, self.signed_in))
        name = re.sub(r"[^\w-]+", "-", f"{landed or 'no-route'}-{visit.label}").strip("-")
        self.check_here(page, name)


def take_tour(chromium, site: Site, role: str, everyones_checked: set[tuple[str, bool]]) -> Tour:  # type: ignore[no-untyped-def]
    folder = f"tour-{role.replace(' ', '-')}"
    tour = Tour(site.app, Visits(folder), role in EMAILS, everyones_checked)
    page = open_page(chromium, site.app)

    def at_the_code() -> None:
        tour.reached.add("second_factor.code")
        tour.check_here(page, "second-factor-code")

    if role in EMAILS:
        sign_in(page, EMAILS[role], at_the_code)
    try:
        for visit in tour_of(site.app, role, site.world, site.states):
            tour.go(page, visit)
        if role == ANONYMOUS:
            # A coach's first sign-in asks them to set up a second step.
            newcomer = open_page(chromium, site.app)
            password_step(newcomer, site.states.new_coach)
            tour.reached.add(str(endpoint_at(site.app, newcomer.url)))
            tour.check_here(newcomer, "second-factor-set-up")
            newcomer.context.close()
    finally:
        page.context.close()
    return tour


def test_every_page_of_every_role_reads_well_at_every_width(chromium, site: Site) -> None:
    reached: set[str] = set()
    problems: list[str] = []
    everyones_checked: set[tuple[str, bool]] = set()
    pages = {}
    for role in TOUR_ROLES:
        tour = take_tour(chromium, site, role, everyones_checked)
        reached |= tour.reached
        problems += [f"[{role}] {problem}" for problem in tour.problems]
        pages[role] = f"{len(tour.visited)} visited, {len(tour.checked)} checked"
    get_routes = {
        rule.endpoint for rule in site.app.url_map.iter_rules() if "GET" in (rule.methods or ())
    }
    unvisited = sorted(get_routes - reached - set(NOT_PAGES))
    if unvisited:
        problems.append(f"no role reached these pages: visit them, or say why not: {unvisited}")
    print(f"pages per role: {pages}")  # shown by pytest -s
    assert not problems, f"pages per role: {pages}\n" + "\n\n".join(problems)


# ---------------------------------------------------------------- tables on a phone

PHONE = 375


def right_edge(locator) -> float:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None, "not shown"
    return float(box["x"] + box["width"])


def scrolls_sideways(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
    )


def table_roles(page) -> set[str]:  # type: ignore[no-untyped-def]
    """The roles Chromium's accessibility tree gives, as a screen reader meets them."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    return {str(node.get("role", {}).get("value")) for node in nodes}


def test_on_a_phone_tables_stack_so_every_column_shows_without_scrolling(chromium, site):
    """At 375 pixels the raters list shows each rater's group and Remove, and the coach's
    list its "Read" link, inside the window: the rows stack, nothing scrolls sideways. To a
    screen reader the list is still a table with its column headers."""
    w = site.world
    amy = open_page(chromium, site.app, PHONE)
    sign_in(amy, EMAILS[STAFF])
    amy.goto(f"/requests/{w.amy_request}")
    raters = amy.get_by_role("table", name="Raters you have nominated")
    not_sent = raters.get_by_role("row").filter(has_text="Peer 4")
    group = not_sent.locator("td[data-label=Group]")
    remove = not_sent.get_by_role("button", name=re.compile("^Remove"))
    assert group.inner_text().startswith("Peer")
    assert right_edge(group) <= PHONE
    assert right_edge(remove) <= PHONE
    assert not scrolls_sideways(amy)
    assert {"table", "row", "columnheader", "cell"} <= table_roles(amy)
    amy.context.close()

    cora = open_page(chromium, site.app, PHONE)
    sign_in(cora, EMAILS[COACH])
    cora.goto("/coach/")
    read = cora.get_by_role("link", name=re.compile("^Read Amy Staff"))
    assert right_edge(read) <= PHONE
    assert not scrolls_sideways(cora)
    assert {"table", "row", "columnheader", "rowheader", "cell"} <= table_roles(cora)
    cora.context.close()
