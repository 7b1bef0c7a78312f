"""The staff member always sees what to do next; shared pages keep tables and forms usable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from feedback360.closing import close_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import FeedbackRequest, Invitation
from feedback360.reports.building import build_cycle_reports
from tests.conftest import (
    nominate_and_send,
    nominate_on_page,
    page_text,
    sign_in,
    submit_form,
)

RATERS = [(f"Rater {n}", f"rater{n}@example.org", "peer") for n in range(1, 4)]
JOURNEY = ["Self-assessment", "Raters", "Invitations", "Responses", "Report"]


class Page(HTMLParser):
    """What a page holds that these tests look at: elements with their ancestors, and labels."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.open: list[tuple[str, dict[str, str]]] = []
        self.elements: list[tuple[str, dict[str, str], list[tuple[str, dict[str, str]]]]] = []
        self.label_for: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes, list(self.open)))
        if tag == "label" and "for" in attributes:
            self.label_for.add(attributes["for"])
        if tag not in self.VOID:
            self.open.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                break

    def all(self, tag: str) -> list[tuple[dict[str, str], list[tuple[str, dict[str, str]]]]]:
        return [(attrs, ancestors) for name, attrs, ancestors in self.elements if name == tag]

    def ids(self) -> list[str]:
        """Ids a reader or a label can reach (hidden CSRF fields repeat theirs harmlessly)."""
        return [
            attrs["id"]
            for _, attrs, _ in self.elements
            if "id" in attrs and attrs.get("type") != "hidden"
        ]


def next_step(html: str) -> dict[str, object]:
    """The "Next step" box at the top of the page: its words, its one action and the journey."""
    box = re.search(r'<section class="next-step".*?</section>', html, flags=re.DOTALL)
    assert box, "the page has no Next step box"
    actions = re.findall(r'<a class="button" href="([^"]*)">([^<]*)</a>', box.group(0))
    current = re.findall(r'<li class="journey-now" aria-current="step">([^<]*)<', box.group(0))
    done = re.findall(r'<li class="journey-done">([^<]*)<', box.group(0))
    return {
        "text": page_text(box.group(0)),
        "html": box.group(0),
        "actions": [(text.strip(), href) for href, text in actions],
        "current": [c.strip() for c in current],
        "done": [d.strip() for d in done],
        "position": html.index(box.group(0)),
    }


@pytest.fixture
def sam(app, make_person, open_cycle):
    """Sam, signed in, who has asked for feedback in a cycle needing three raters."""
    make_person("Sam Taylor", "sam@example.org", business_unit="Camden")
    open_cycle("Spring 2026", min_raters=3)
    client = app.test_client()
    sign_in(client, "sam@example.org")
    cycle_id = re.search(r'action="/cycles/(\d+)/request"', client.get("/").text).group(1)
    page = submit_form(client, "/", {}, action=f"/cycles/{cycle_id}/request").location
    return client, page


def self_assess(framework) -> None:
    feedback_request = db.session.scalars(db.select(FeedbackRequest)).one()
    services.submit_self_assessment(
        feedback_request, Answers({s.id: 4 for s in framework.statements})
    )
    db.session.commit()


def raters_answer(framework, how_many: int) -> None:
    for invitation in db.session.scalars(db.select(Invitation)).all()[:how_many]:
        services.submit_rater_response(invitation, Answers({s.id: 3 for s in framework.statements}))
    db.session.commit()


def test_before_the_self_assessment_the_next_step_is_to_start_it(sam):
    client, page = sam
    for html in (client.get(page).text, client.get("/").text):
        box = next_step(html)
        assert "Next: Complete your self-assessment." in box["text"]
        assert box["actions"] == [("Start your self-assessment", f"{page}/self/values/1")]
        # The one way to start it: the request page's own section does not repeat the button.
        assert html.count("your self-assessment</a>") == 1
        assert box["current"] == ["Self-assessment"]
        assert box["position"] < html.index('class="card"')  # at the top, before the rest


def test_the_journey_names_every_stage_and_says_where_sam_is_in_words(sam):
    client, page = sam
    text = next_step(client.get(page).text)["text"]
    assert [stage for stage in JOURNEY if stage in text] == JOURNEY
    assert "Self-assessment (you are here)" in text
    assert "Report (to come)" in text


def test_raters_invited_before_the_self_assessment_are_done_not_to_come(sam):
    client, page = sam
    nominate_and_send(client, page, RATERS)
    box = next_step(client.get(page).text)
    assert box["current"] == ["Self-assessment"]
    assert box["done"] == ["Raters", "Invitations"]
    assert "Responses (to come)" in box["text"]


def test_while_choosing_raters_the_next_step_leads_to_the_add_a_rater_form(sam, framework):
    client, page = sam
    self_assess(framework)
    submit_form(
        client,
        page,
        dict(zip(["name", "email", "group"], RATERS[0], strict=True)),
        action=f"{page}/nominations",
    )

    html = client.get(page).text
    box = next_step(html)
    assert "Next: Nominate at least 3 raters." in box["text"]
    assert box["actions"] == [("Add raters", "#add-rater")]
    assert 'id="add-rater"' in html
    assert box["current"] == ["Raters"]
    assert box["done"] == ["Self-assessment"]
    assert next_step(client.get("/").text)["actions"] == [("Add raters", f"{page}#add-rater")]


def test_with_the_list_ready_the_next_step_leads_to_sending_the_invitations(sam, framework):
    client, page = sam
    self_assess(framework)
    nominate_on_page(client, page, RATERS)

    html = client.get(page).text
    box = next_step(html)
    assert "Send the invitations to the raters you have nominated." in box["text"]
    assert box["actions"] == [("Send the invitations", "#send-invitations")]
    assert re.search(r'<form method="post" id="send-invitations" action="[^"]+/invitations"', html)
    assert box["current"] == ["Invitations"]


def test_with_the_invitations_out_the_next_step_is_to_wait_and_see_the_count(sam, framework):
    client, page = sam
    self_assess(framework)
    nominate_and_send(client, page, RATERS)
    raters_answer(framework, 1)

    html = client.get(page).text
    box = next_step(html)
    assert "Wait for your raters to respond (1 so far)." in box["text"]
    assert box["actions"] == [("See how your responses stand", "#responses-heading")]
    assert 'id="responses-heading"' in html
    assert box["current"] == ["Responses"]
    assert box["done"] == ["Self-assessment", "Raters", "Invitations"]
    assert "enough responses to be shown" not in box["text"]


def test_with_enough_responses_the_box_says_so_and_when_the_report_comes(sam, framework):
    client, page = sam
    self_assess(framework)
    nominate_and_send(client, page, RATERS)
    raters_answer(framework, 3)

    box = next_step(client.get(page).text)
    assert "Wait for your raters to respond (3 so far)." in box["text"]
    assert "Every group you nominated has enough responses to be shown." in box["text"]
    assert "ready once the cycle closes and the report is released" in box["text"]
    assert box["actions"] == [("See how your responses stand", "#responses-heading")]


def test_once_released_the_next_step_is_to_read_the_report(sam, framework, runner):
    client, page = sam
    self_assess(framework)
    nominate_and_send(client, page, RATERS)
    raters_answer(framework, 3)
    for step in (
        ["cycle", "close", "Spring 2026"],
        ["reports", "build", "Spring 2026"],
        ["cycle", "release", "Spring 2026"],
    ):
        assert runner.invoke(args=step).exit_code == 0
    request_id = page.rsplit("/", 1)[1]

    for html in (client.get(page).text, client.get("/").text):
        box = next_step(html)
        assert "Next: Your report is ready to read." in box["text"]
        assert box["actions"] == [("Read your report", f"/reports/{request_id}/")]
        assert box["current"] == ["Report"]
        assert box["done"] == JOURNEY[:-1]
    assert client.get(f"/reports/{request_id}/").status_code == 200


def test_a_newly_opened_cycle_is_the_next_step_on_the_home_page(app, make_person, open_cycle):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle("Spring 2026")
    client = app.test_client()
    sign_in(client, "sam@example.org")

    html = client.get("/").text
    box = next_step(html)
    assert "Next: Ask for feedback in Spring 2026." in box["text"]
    # One button, in the box itself: not a link to another button that does the same.
    assert box["actions"] == []
    assert f'action="/cycles/{cycle.id}/request"' in box["html"]
    assert html.count("Ask for feedback in Spring 2026</button>") == 1


def assert_tables_scroll_in_labelled_regions(html: str) -> None:
    page = Page(html)
    tables = page.all("table")
    assert tables, "the page has no table"
    for _, ancestors in tables:
        region = next(
            (a for t, a in reversed(ancestors) if "table-scroll" in a.get("class", "")), None
        )
        assert region is not None, "a table is not in a scroll region"
        assert region.get("role") == "region"
        assert region.get("tabindex") == "0"
        assert region.get("aria-label") or region.get("aria-labelledby") in page.ids()


def test_the_raters_tables_are_in_labelled_scroll_regions(sam, framework, make_person):
    client, page = sam
    make_person("Pat Peer", "pat@example.org", business_unit="Camden")  # suggested
    nominate_and_send(client, page, RATERS)
    assert_tables_scroll_in_labelled_regions(client.get(page).text)


@pytest.mark.parametrize("path", ["/admin/people", "/admin/audit", "/admin/cycles", "CYCLE"])
def test_wide_admin_tables_are_in_labelled_scroll_regions(admin, open_cycle, path):
    cycle = open_cycle("Spring 2026")
    path = f"/admin/cycles/{cycle.id}" if path == "CYCLE" else path
    assert_tables_scroll_in_labelled_regions(admin.get(path).text)


def assert_every_input_is_labelled(html: str) -> None:
    page = Page(html)
    ids = page.ids()
    assert len(ids) == len(set(ids)), f"repeated ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert len(page.all("h1")) == 1
    assert "main" in ids
    assert 'href="#main"' in html
    fields = page.all("input") + page.all("select") + page.all("textarea")
    for attrs, ancestors in fields:
        if attrs.get("type") in ("hidden", "submit"):
            continue
        wrapped = any(tag == "label" for tag, _ in ancestors)
        named = attrs.get("aria-label") or attrs.get("id") in page.label_for
        assert wrapped or named, f"{attrs.get('name')} has no label"


def test_the_staff_members_forms_label_every_field(sam, make_person):
    client, page = sam
    make_person("Pat Peer", "pat@example.org", business_unit="Camden")
    assert "Ask Pat Peer" in client.get(page).text
    for html in (client.get(page).text, client.get("/").text):
        assert_every_input_is_labelled(html)


def test_a_refused_nomination_is_summarised_and_linked_to_its_field(sam):
    client, page = sam
    response = submit_form(
        client, page, {"name": "", "email": "nope", "group": "peer"}, action=f"{page}/nominations"
    )
    html = response.text
    assert_every_input_is_labelled(html)
    summary = re.search(r'<div class="error-summary".*?</div>', html, flags=re.DOTALL).group(0)
    for target in re.findall(r'href="#([^"]+)"', summary):
        assert f'id="{target}"' in html


def test_the_sign_in_form_labels_every_field(client):
    assert_every_input_is_labelled(client.get("/sign-in").text)


@pytest.mark.parametrize(
    "path", ["/admin/people/import", "/admin/cycles/new", "/admin/audit", "/admin/people", "PERSON"]
)
def test_administration_forms_label_every_field(admin, make_person, path):
    person = make_person("Kim Coach", "kim@example.org", is_coach=True)
    path = f"/admin/people/{person.id}" if path == "PERSON" else path
    assert_every_input_is_labelled(admin.get(path).text)


def test_where_the_manager_approves_the_box_leads_to_asking_then_to_the_locked_list(
    app, make_person, open_cycle, framework
):
    morgan = make_person("Morgan Lee", "morgan@example.org")
    make_person("Sam Taylor", "sam@example.org", line_manager=morgan)
    cycle = open_cycle("Spring 2026", min_raters=3)
    cycle.manager_approves = True
    db.session.commit()
    client = app.test_client()
    sign_in(client, "sam@example.org")
    page = submit_form(client, "/", {}, action=f"/cycles/{cycle.id}/request").location
    self_assess(framework)
    nominate_on_page(client, page, RATERS)

    html = client.get(page).text
    box = next_step(html)
    assert "Ask your line manager to approve your list" in box["text"]
    assert box["actions"] == [("Ask for approval", "#ask-for-approval")]
    assert 'id="ask-for-approval"' in html

    submit_form(client, page, {}, action=f"{page}/approval")
    html = client.get(page).text
    box = next_step(html)
    assert "Your list is with Morgan Lee for approval." in box["text"]
    assert box["actions"] == [("See your list of raters", "#raters-heading")]
    assert box["current"] == ["Invitations"]
    assert 'id="raters-heading"' in html

    # Morgan's approval page keeps its table in a region and labels every field.
    manager = app.test_client()
    sign_in(manager, "morgan@example.org")
    approval_page = manager.get(f"/approvals/{page.rsplit('/', 1)[1]}").text
    assert_tables_scroll_in_labelled_regions(approval_page)
    assert_every_input_is_labelled(approval_page)
    assert_every_input_is_labelled(manager.get("/").text)


def test_the_main_navigation_marks_the_section_the_page_is_in(admin):
    assert '<a href="/admin/" aria-current="true">Administration</a>' in admin.get("/admin/").text
    home = admin.get("/").text
    assert '<a href="/" aria-current="true">My feedback</a>' in home
    assert '<a href="/admin/">Administration</a>' in home


def test_a_refused_suggestion_points_the_reader_from_the_summary_to_the_field(sam, make_person):
    client, page = sam
    pat = make_person("Pat Peer", "pat@example.org", business_unit="Camden")
    data = {f"ask_{pat.id}": "y", f"group_{pat.id}": "nonsense"}
    html = submit_form(client, page, data, action=f"{page}/nominations/suggested").text

    assert "There is a problem" in html
    assert f'<a href="#group_{pat.id}">' in html
    select = re.search(rf'<select[^>]*id="group_{pat.id}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in select
    assert f'aria-describedby="group_{pat.id}-error"' in select
    assert f'id="group_{pat.id}-error"' in html
    assert_every_input_is_labelled(html)


MIXED = [
    *RATERS,  # three peers
    ("Dee Report", "dee@example.org", "direct_report"),
]


def responses_section(html: str) -> str:
    section = re.search(
        r'<section class="card" aria-labelledby="responses-heading">.*?</section>', html, re.S
    )
    assert section, "the page has no Responses section"
    return page_text(section.group(0))


def closed_request() -> FeedbackRequest:
    """The one request, its cycle closed now."""
    feedback_request = db.session.scalars(db.select(FeedbackRequest)).one()
    close_cycle(feedback_request.cycle)
    db.session.commit()
    return feedback_request


def test_the_request_page_says_what_the_report_will_do_with_each_group(sam, framework):
    """Three peers and one direct report answer (k = 3): the report pools the peers with
    the direct report, so that the lone direct report cannot be worked out as all raters
    minus the peers. That pool is every rater, so the report shows it only as "All raters".
    The page must say so before and after the close, as the report does."""
    client, page = sam
    self_assess(framework)
    nominate_and_send(client, page, MIXED)
    raters_answer(framework, 4)

    during = responses_section(client.get(page).text)
    assert "Peers: shown so far only within “All raters”, together with other groups" in during
    assert "Direct reports: shown so far only within “All raters”" in during
    assert "enough responses to be shown on its own" not in during
    assert "Every group you nominated has enough" not in next_step(client.get(page).text)["text"]

    feedback_request = closed_request()
    after = responses_section(client.get(page).text)
    assert "Peers: shown within “All raters”, together with other groups" in after
    assert "yet" not in after

    (report,) = build_cycle_reports(feedback_request.cycle)
    db.session.commit()
    # The report's cover says the same of the peers: only within "All raters".
    assert re.search(
        r'Peers</th>\s*<td class="note">Not shown on its own, to protect anonymity: '
        r"included in All raters",
        report.html,
    )
    assert "c-other_raters" not in report.html  # no "Other raters" column


def test_after_the_close_a_small_group_is_too_few_not_waiting(sam, framework):
    client, page = sam
    self_assess(framework)
    nominate_and_send(client, page, RATERS)
    raters_answer(framework, 2)
    closed_request()

    after = responses_section(client.get(page).text)

    assert "Peers: too few responses to be shown" in after
    assert "yet" not in after


def test_the_next_step_follows_the_open_cycle_not_a_later_closed_one(app, make_person, open_cycle):
    sam = make_person("Sam Taylor", "sam@example.org")
    spring, summer = open_cycle("Spring 2026"), open_cycle("Summer 2026")
    services.start_request(spring, sam)
    services.start_request(summer, sam)  # the later request, in the cycle that then closes
    close_cycle(summer)
    db.session.commit()
    client = app.test_client()
    sign_in(client, "sam@example.org")

    html = client.get("/").text
    box = next_step(html)
    assert "Next step: Spring 2026" in box["text"]
    assert "Next: Complete your self-assessment." in box["text"]
    # A closed cycle's count is final: no "so far".
    text = page_text(html)
    assert "Summer 2026 0 responses from raters." in text
    assert "Spring 2026 0 responses from raters so far." in text
