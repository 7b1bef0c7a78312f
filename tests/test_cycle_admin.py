"""An administrator sets a cycle up, opens and closes it, by hand or by date, and follows it."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from feedback360.audit.models import AuditEntry
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.timeutil import today
from tests.conftest import csrf_token, nominate_colleague, page_text, sign_in


class _Tables(HTMLParser):
    """Each table's caption and rows of cell texts, as a screen reader would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self.tables[self._caption or ""] = self._rows

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data.strip()
        elif self._cell is not None:
            self._cell.append(data)


def table(html: str, caption: str) -> dict[str, list[str]]:
    """The rows of the table with this caption, keyed by their first cell."""
    parser = _Tables()
    parser.feed(html)
    return {row[0]: row[1:] for row in parser.tables[caption] if row and row[0]}


def cycle_form(**changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Spring 2026",
        "opens_on": "",
        "closes_on": "",
        "rater_groups": ["line_manager", "peer", "direct_report", "other"],
        "min_raters": "5",
        "max_raters": "15",
        "threshold": "3",
        "release_mode": "together",
        "retention_days": "90",
    }
    data.update(changes)
    return data


def post_form(browser, page: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    """Post the form on the page as a browser would, with the framework it offers."""
    html = browser.get(page).text
    framework = re.search(r'<option selected value="(\d+)"', html)
    assert framework, "no framework is offered"
    data = {"csrf_token": csrf_token(html), "framework_id": framework.group(1), **data}
    return browser.post(page, data=data)


def only_cycle() -> Cycle:
    db.session.expire_all()
    return db.session.scalars(db.select(Cycle)).one()


def actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_cycle_is_created_with_the_default_settings(admin, framework):
    page = admin.get("/admin/cycles/new").text
    for field, default in (("min_raters", 5), ("max_raters", 15), ("threshold", 3)):
        assert re.search(f'id="{field}"[^>]*value="{default}"', page), field
    assert re.search('id="retention_days"[^>]*value="90"', page)

    response = post_form(
        admin,
        "/admin/cycles/new",
        cycle_form(
            opens_on=(today() + timedelta(days=7)).isoformat(),
            closes_on=(today() + timedelta(days=28)).isoformat(),
            rater_groups=["line_manager", "peer"],
            release_mode="coach_first",
            manager_approves="y",
        ),
    )

    cycle = only_cycle()
    assert response.status_code == 302
    assert response.location == f"/admin/cycles/{cycle.id}"
    assert cycle.status == "draft"
    assert cycle.framework_id == framework.id
    assert (cycle.opens_on, cycle.closes_on) == (
        today() + timedelta(days=7),
        today() + timedelta(days=28),
    )
    assert cycle.rater_groups == ["line_manager", "peer"]
    assert (cycle.min_raters, cycle.max_raters, cycle.anonymity_threshold) == (5, 15, 3)
    assert cycle.manager_approves
    assert not cycle.manager_identifiable
    assert (cycle.release_mode, cycle.retention_days) == ("coach_first", 90)
    assert actions() == ["cycle.create"]
    assert "Spring 2026" in admin.get("/admin/cycles").text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"threshold": "1"}, "threshold", "The anonymity threshold can never be below 2."),
        (
            {"min_raters": "8", "max_raters": "6"},
            "max_raters",
            "The maximum number of raters (6) cannot be below the minimum (8).",
        ),
        (
            {"min_raters": "3", "threshold": "4"},
            "min_raters",
            "The minimum number of raters (3) must reach the anonymity threshold (4)",
        ),
        (
            {"opens_on": "2026-05-01", "closes_on": "2026-04-01"},
            "closes_on",
            "The closing date must be on or after the opening date.",
        ),
        ({"rater_groups": []}, "rater_groups", "Choose at least one rater group."),
        ({"min_raters": "five"}, "min_raters", "Enter a whole number, like 5."),
        ({"max_raters": "1" + "0" * 20}, "max_raters", "Enter a number no larger than 10,000."),
        ({"opens_on": "2026-13-45"}, "opens_on", "Enter a date like 2026-03-31."),
    ],
    ids=[
        "k-of-one",
        "min-above-max",
        "min-below-k",
        "closes-before-opening",
        "no-groups",
        "not-a-number",
        "huge-number",
        "not-a-date",
    ],
)
def test_settings_the_rules_refuse_are_explained_next_to_the_field(
    admin, framework, changes, field, message
):
    response = post_form(admin, "/admin/cycles/new", cycle_form(name="Autumn 2026", **changes))

    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text
    assert message in page_text(response.text)
    assert f'href="#{field}"' in response.text  # the summary leads to the field
    assert 'value="Autumn 2026"' in response.text  # nothing typed is lost
    assert db.session.scalar(db.select(db.func.count()).select_from(Cycle)) == 0


def test_every_setting_can_be_changed_until_the_cycle_opens(admin, framework, runner):
    post_form(admin, "/admin/cycles/new", cycle_form())
    cycle = only_cycle()
    settings = f"/admin/cycles/{cycle.id}/settings"
    assert 'value="Spring 2026"' in admin.get(settings).text

    changed = post_form(
        admin,
        settings,
        cycle_form(
            name="Spring 2026 (pilot)",
            min_raters="4",
            max_raters="10",
            threshold="4",
            manager_identifiable="y",
            release_mode="coach_first",
            retention_days="30",
        ),
    )
    assert changed.status_code == 302
    cycle = only_cycle()
    assert cycle.name == "Spring 2026 (pilot)"
    assert (cycle.min_raters, cycle.max_raters, cycle.anonymity_threshold) == (4, 10, 4)
    assert cycle.manager_identifiable
    assert (cycle.release_mode, cycle.retention_days) == ("coach_first", 30)

    confirm = admin.get(f"/admin/cycles/{cycle.id}/open")
    assert "This cannot be undone." in confirm.text
    opened = admin.post(
        f"/admin/cycles/{cycle.id}/open", data={"csrf_token": csrf_token(confirm.text)}
    )
    assert opened.location == f"/admin/cycles/{cycle.id}"
    assert only_cycle().status == "open"

    page = admin.get(settings).text
    assert "can no longer be changed" in page
    assert "Save the settings" not in page
    refused = admin.post(
        settings, data={"csrf_token": csrf_token(page), **cycle_form(threshold="2", min_raters="2")}
    )
    assert refused.status_code == 400
    assert "settings can be changed only before it opens" in page_text(refused.text)
    cycle = only_cycle()
    assert (cycle.anonymity_threshold, cycle.min_raters, cycle.name) == (
        4,
        4,
        "Spring 2026 (pilot)",
    )
    assert actions() == ["cycle.create", "cycle.update", "cycle.open"]


def test_a_cycle_is_closed_by_hand_after_a_confirmation(admin, open_cycle):
    cycle = open_cycle()
    dashboard = admin.get(f"/admin/cycles/{cycle.id}").text
    assert f'href="/admin/cycles/{cycle.id}/close"' in dashboard

    confirm = admin.get(f"/admin/cycles/{cycle.id}/close")
    assert "Raters can no longer answer" in confirm.text
    assert only_cycle().status == "open"  # looking at the question changes nothing
    admin.post(f"/admin/cycles/{cycle.id}/close", data={"csrf_token": csrf_token(confirm.text)})

    assert only_cycle().status == "closed"
    assert actions() == ["cycle.create", "cycle.close"]
    again = admin.post(
        f"/admin/cycles/{cycle.id}/close", data={"csrf_token": csrf_token(confirm.text)}
    )
    assert "only an open cycle can close" in page_text(admin.get(again.location).text)


def test_the_daily_tick_opens_and_closes_cycles_by_date(runner, framework):
    def create(name: str, *options: str) -> None:
        assert runner.invoke(args=["cycle", "create", name, *options]).exit_code == 0

    day = lambda n: (today() + timedelta(days=n)).isoformat()  # noqa: E731
    create("Due to open", "--opens-on", day(0), "--closes-on", day(14))
    create("Not yet", "--opens-on", day(1))
    create("By hand")
    create("Ending", "--closes-on", day(-1))
    create("Still running", "--closes-on", day(0))
    for name in ("Ending", "Still running"):
        assert runner.invoke(args=["cycle", "open", name]).exit_code == 0

    first = runner.invoke(args=["cycle", "tick"])

    assert first.exit_code == 0, first.output
    assert "Opened “Due to open”" in first.output
    assert "Closed “Ending”" in first.output
    db.session.expire_all()
    statuses = dict(db.session.execute(db.select(Cycle.name, Cycle.status)).all())
    assert statuses == {
        "Due to open": "open",
        "Not yet": "draft",
        "By hand": "draft",
        "Ending": "closed",
        "Still running": "open",
    }
    entries = db.session.scalars(db.select(AuditEntry).filter_by(action="cycle.open")).all()
    assert any(e.actor is None and e.detail == "on its opening date" for e in entries)

    second = runner.invoke(args=["cycle", "tick"])
    assert second.exit_code == 0
    assert second.output.strip() == "Nothing to open or close today."

    tomorrow = runner.invoke(args=["cycle", "tick", "--today", day(1)])
    assert "Opened “Not yet”" in tomorrow.output
    assert "Closed “Still running”" in tomorrow.output


@pytest.mark.parametrize("command", [["cycle", "tick"], ["reminders", "send"]], ids=" ".join)
def test_the_daily_commands_explain_themselves(runner, command):
    result = runner.invoke(args=[*command, "--help"])

    assert result.exit_code == 0, result.output
    assert "Run it daily from cron" in " ".join(result.output.split())
    assert "--today" not in result.output  # for tests only


def test_pages_are_for_administrators_only(app, client, make_person, open_cycle):
    cycle = open_cycle()
    pages = ["/admin/cycles", "/admin/cycles/new", f"/admin/cycles/{cycle.id}"]
    for page in pages:
        assert client.get(page).location.startswith("/sign-in"), page
    make_person("Sam Taylor", "sam@example.org")
    sign_in(client, "sam@example.org")
    for page in [*pages, f"/admin/cycles/{cycle.id}/settings", f"/admin/cycles/{cycle.id}/close"]:
        assert client.get(page).status_code == 403, page
    token = csrf_token(client.get("/").text)
    for action in ("close", "reminders", "build"):
        response = client.post(f"/admin/cycles/{cycle.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 403, action
    assert only_cycle().status == "open"


def test_unknown_cycles_and_requests_are_not_found(admin, open_cycle):
    cycle = open_cycle()
    token = csrf_token(admin.get("/admin/cycles").text)
    assert admin.get("/admin/cycles/999").status_code == 404
    assert admin.get("/admin/cycles/999/settings").status_code == 404
    assert admin.post("/admin/cycles/999/close", data={"csrf_token": token}).status_code == 404
    path = f"/admin/cycles/{cycle.id}/requests/999/reminders"
    assert admin.post(path, data={"csrf_token": token}).status_code == 404


@pytest.fixture
def small_cycle(open_cycle, make_person, framework):
    """Sam (Operations) has enough responses, Kim (Finance) is waiting for hers, Lee is still
    choosing raters."""
    cycle = open_cycle(min_raters=3)
    mo = make_person("Mo Manager", "mo@example.org")
    sam = make_person("Sam Taylor", "sam@example.org", business_unit="Operations", line_manager=mo)
    kim = make_person("Kim Lee", "kim@example.org", business_unit="Finance")
    lee = make_person("Lee Jones", "lee@example.org")
    every = Answers({s.id: 4 for s in framework.statements})

    request = services.start_request(cycle, sam)
    services.submit_self_assessment(request, every)
    nominate_colleague(request, "Mo Manager", "mo@example.org", "line_manager")
    for n in range(1, 5):
        nominate_colleague(request, f"Peer {n}", f"peer{n}@example.org", "peer")
    services.send_invitations(request)
    manager, *peers = request.invitations
    for invitation in peers[:3]:
        services.submit_rater_response(invitation, every)
    services.decline(peers[3])
    services.save_rater_draft(manager, Answers({framework.statements[0].id: 3}))

    request = services.start_request(cycle, kim)
    for n in range(1, 4):
        nominate_colleague(request, f"Colleague {n}", f"colleague{n}@example.org", "peer")
    services.send_invitations(request)

    request = services.start_request(cycle, lee)
    nominate_colleague(request, "Pat Peer", "pat@example.org", "peer")
    db.session.commit()
    return cycle


def test_the_dashboard_counts_a_small_cycle(admin, small_cycle):
    html = admin.get(f"/admin/cycles/{small_cycle.id}").text

    stages = table(html, "Requests by the furthest stage they have reached")
    assert stages["Nominating raters"] == ["1"]
    assert stages["Invitations out"] == ["1"]
    assert stages["Enough responses for a report"] == ["1"]
    assert stages["Report built"] == ["0"]
    assert "3 requests; 1 with the self-assessment done." in page_text(html)

    invitations = table(html, "Invitations by what has happened to them")
    assert invitations["Sent"] == ["8"]
    assert invitations["Not opened yet"] == ["3"]
    assert invitations["Opened, not answered yet"] == ["1"]
    assert invitations["Submitted"] == ["3"]
    assert invitations["Declined"] == ["1"]
    assert invitations["Messages that could not be delivered"] == ["0"]

    # One line manager is fewer than k: no state of hers is shown, and the peers are pooled
    # with her so that the totals above minus the peers cannot show it either.
    by_group = table(html, "Response rate by rater group")
    assert by_group["Line manager"] == ["1", "Not shown", "Not shown", "Not shown"]
    assert by_group["Peers"] == ["7", "Not shown", "Not shown", "Not shown"]
    assert by_group["Other raters"] == ["8", "3", "1", "38%"]
    by_unit = table(html, "Response rate by business unit of the person asking")
    assert by_unit["Operations"] == ["5", "3", "1", "60%"]
    assert by_unit["Finance"] == ["3", "0", "0", "0%"]
    assert by_unit["No business unit recorded"] == ["0", "0", "0", "–"]

    below = table(html, "Requests below the anonymity threshold")
    assert set(below) == {"Person", "Kim Lee", "Lee Jones"}
    assert below["Kim Lee"][:3] == ["0", "3", "Yes"]
    assert below["Lee Jones"][:3] == ["0", "0", "No: more raters are needed"]

    # Counts only: no rater is named, and no answer is shown.
    for rater in ("Mo Manager", "mo@example.org", "Peer 1", "peer1@example.org", "Colleague"):
        assert rater not in html


def test_the_dashboard_never_shows_what_the_only_other_rater_did(
    admin, open_cycle, make_person, framework
):
    cycle = open_cycle()
    request = services.start_request(cycle, make_person("Sam Taylor", "sam@example.org"))
    for n in range(1, 6):
        nominate_colleague(request, f"Peer {n}", f"peer{n}@example.org", "peer")
    nominate_colleague(request, "Olu Partner", "olu@example.org", "other")
    services.send_invitations(request)
    *peers, partner = request.invitations
    for invitation in peers:
        services.submit_rater_response(invitation, Answers({s.id: 4 for s in framework.statements}))
    services.decline(partner)
    db.session.commit()

    html = admin.get(f"/admin/cycles/{cycle.id}").text

    by_group = table(html, "Response rate by rater group")
    assert by_group["Others"] == ["1", "Not shown", "Not shown", "Not shown"]
    assert by_group["Peers"] == ["5", "Not shown", "Not shown", "Not shown"]
    assert by_group["Other raters"] == ["6", "5", "1", "83%"]  # the one who declined: anyone
    assert "fewer than 3 invitations or fewer than 3 responses is not broken down" in (
        page_text(html)
    )
