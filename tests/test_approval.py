"""Where the cycle asks for it, the line manager approves a staff member's raters."""

from __future__ import annotations

import re

import pytest

from feedback360.audit.models import AuditEntry
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from tests.conftest import (
    csrf_token,
    on_staff_list,
    outbox_messages,
    page_text,
    sign_in,
    submit_form,
)


@pytest.fixture
def approving_cycle(open_cycle):
    cycle = open_cycle(min_raters=3, max_raters=6)
    cycle.manager_approves = True
    db.session.commit()
    return cycle


@pytest.fixture
def sam_reports_to_morgan(make_person):
    morgan = make_person("Morgan Lee", "morgan@example.org")
    return make_person("Sam Taylor", "sam@example.org", line_manager=morgan)


def mail_text(message) -> str:
    """The plain-text words of a message, whether or not it also has an HTML part."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("the message has no plain text")


def recipients(app) -> list[str]:
    return sorted(message["To"] for message in outbox_messages(app))


def next_step(html: str) -> str:
    return re.search(r"Next: ([^.]+\.)", page_text(html)).group(1)


def self_assess(client, page: str, framework) -> None:
    answers = {f"s{s.id}": "4" for value in framework.values for s in value.statements}
    submit_form(client, f"{page}/self", {**answers, "action": "submit"})


def nominate(client, page: str, name: str, email: str, group: str = "peer"):
    on_staff_list([(name, email)])
    data = {"name": name, "email": email, "group": group}
    return submit_form(client, page, data, action=f"{page}/nominations")


def sam_asks_for_approval(app, cycle) -> tuple[str, int]:
    """Sam nominates three peers and asks for approval; returns the page and request id."""
    sam = app.test_client()
    sign_in(sam, "sam@example.org")
    page = submit_form(sam, "/", {}, action=f"/cycles/{cycle.id}/request").location
    for n in range(1, 4):
        nominate(sam, page, f"Rater {n}", f"rater{n}@example.org")
    submit_form(sam, page, {}, action=f"{page}/approval")
    return page, int(page.rsplit("/", 1)[1])


def test_the_line_manager_changes_and_approves_the_list(
    app, client, framework, approving_cycle, sam_reports_to_morgan
):
    sign_in(client, "sam@example.org")
    page = submit_form(client, "/", {}, action=f"/cycles/{approving_cycle.id}/request").location
    self_assess(client, page, framework)
    assert next_step(client.get(page).text) == "Nominate at least 3 raters, then ask for approval."

    for n in range(1, 4):
        nominate(client, page, f"Rater {n}", f"rater{n}@example.org")
    html = client.get(page).text
    assert (
        next_step(html)
        == "Ask your line manager to approve your list; the invitations go out once it is approved."
    )
    assert "Ask my line manager to approve" in html
    assert "Send invitations" not in html

    # Sending directly is refused: the line manager approves first.
    refused = client.get(submit_form(client, page, {}, action=f"{page}/invitations").location)
    assert "your line manager approves your raters first" in page_text(refused.text)
    assert outbox_messages(app) == []

    # Sam asks; Morgan gets a message with a link, and Sam's list is locked.
    asked = client.get(submit_form(client, page, {}, action=f"{page}/approval").location)
    assert "Your list has been sent for approval." in page_text(asked.text)
    assert next_step(asked.text) == "Your list is with Morgan Lee for approval."
    assert "Waiting for approval" in asked.text
    [message] = outbox_messages(app)
    assert message["To"] == "morgan@example.org"
    approval_link = re.search(r"http://localhost(/approvals/\d+)", mail_text(message)).group(1)
    locked = nominate(client, page, "Late Addition", "late@example.org")
    assert locked.status_code == 400
    assert "Your list is with your line manager for approval" in page_text(locked.text)

    # Morgan signs in, sees the list waiting on the home page and opens the link.
    morgan = app.test_client()
    sign_in(morgan, "morgan@example.org")
    home = page_text(morgan.get("/").text)
    assert "Nominations waiting for your approval Sam Taylor’s raters for Spring 2026" in home
    text = page_text(morgan.get(approval_link).text)
    assert "Sam Taylor’s raters" in text
    assert "Rater 2 rater2@example.org Peer Waiting for approval" in text

    # Morgan removes one rater, adds another and approves.
    request = db.session.get(FeedbackRequest, int(approval_link.rsplit("/", 1)[1]))
    rater2 = next(i for i in request.invitations if i.email == "rater2@example.org")
    submit_form(morgan, approval_link, {}, action=f"{approval_link}/raters/{rater2.id}/remove")
    on_staff_list([("Dana New", "dana@example.org")])
    submit_form(
        morgan,
        approval_link,
        {"name": "Dana New", "email": "dana@example.org", "group": "peer"},
        action=f"{approval_link}/raters",
    )
    approved = submit_form(morgan, approval_link, {}, action=f"{approval_link}/approve")
    text = page_text(morgan.get(approved.location).text)
    assert "List approved: 3 invitations sent." in text
    assert "This list has been approved and the invitations have gone out." in text

    # The raters on the approved list are invited; the one removed is not.
    invited = [m["To"] for m in outbox_messages(app) if m["To"] != "morgan@example.org"]
    assert sorted(invited) == ["dana@example.org", "rater1@example.org", "rater3@example.org"]
    entry = db.session.scalars(db.select(AuditEntry).filter_by(action="nominations.approve")).one()
    assert entry.actor.email == "morgan@example.org"

    # Sam sees the new state.
    html = client.get(page).text
    assert "Your list was approved and the invitations have gone out." in page_text(html)
    assert next_step(html) == "Wait for your raters to respond (0 so far)."
    assert "Dana New dana@example.org Peer Sent" in page_text(html)
    assert "rater2@example.org" not in html
    assert "Nominations waiting" not in morgan.get("/").text


def test_the_approver_adds_raters_by_the_same_rules(app, approving_cycle, sam_reports_to_morgan):
    _, request_id = sam_asks_for_approval(app, approving_cycle)
    morgan = app.test_client()
    sign_in(morgan, "morgan@example.org")
    link = f"/approvals/{request_id}"
    for data, message in [
        ({"name": "Sam", "email": "Sam@example.org", "group": "peer"}, "Sam Taylor cannot rate"),
        ({"name": "Again", "email": "RATER1@example.org", "group": "peer"}, "already on the list"),
        ({"name": "Bo", "email": "bo@", "group": "peer"}, "Enter an email address like"),
    ]:
        response = submit_form(morgan, link, data, action=f"{link}/raters")
        assert response.status_code == 400
        assert message in page_text(response.text)
        assert f'value="{data["email"]}"' in response.text


def test_a_list_below_the_minimum_cannot_be_approved(app, approving_cycle, sam_reports_to_morgan):
    _, request_id = sam_asks_for_approval(app, approving_cycle)
    morgan = app.test_client()
    sign_in(morgan, "morgan@example.org")
    link = f"/approvals/{request_id}"
    rater = db.session.get(FeedbackRequest, request_id).invitations[0]
    submit_form(morgan, link, {}, action=f"{link}/raters/{rater.id}/remove")

    refused = morgan.get(submit_form(morgan, link, {}, action=f"{link}/approve").location)

    assert "needs at least 3 raters before it can be approved; it has 2" in page_text(refused.text)
    assert recipients(app) == ["morgan@example.org"]


def test_asking_needs_the_minimum(app, client, approving_cycle, sam_reports_to_morgan):
    sign_in(client, "sam@example.org")
    page = submit_form(client, "/", {}, action=f"/cycles/{approving_cycle.id}/request").location
    nominate(client, page, "Rater 1", "rater1@example.org")
    html = client.get(page).text
    assert "Once you have at least 3 raters you can ask for your list to be approved." in html
    refused = client.get(submit_form(client, page, {}, action=f"{page}/approval").location)
    assert "Nominate at least 3 raters before asking for approval; you have 1." in refused.text
    assert outbox_messages(app) == []


@pytest.mark.parametrize("who", ["a colleague", "the subject", "an administrator", "anonymous"])
def test_only_the_line_manager_sees_or_acts(
    app, make_person, approving_cycle, sam_reports_to_morgan, who
):
    _, request_id = sam_asks_for_approval(app, approving_cycle)
    make_person("Nosy Parker", "nosy@example.org")
    make_person("Ada Admin", "ada@example.org", is_admin=True)
    other = app.test_client()
    email = {"a colleague": "nosy", "the subject": "sam", "an administrator": "ada"}.get(who)
    if email:
        sign_in(other, f"{email}@example.org")
    token = csrf_token(other.get("/" if email else "/sign-in").text)
    link = f"/approvals/{request_id}"

    for response in (
        other.get(link),
        other.post(f"{link}/approve", data={"csrf_token": token}),
        other.post(f"{link}/raters", data={"csrf_token": token, "name": "X", "email": "x@x.org"}),
    ):
        if who == "anonymous":
            assert response.location.startswith("/sign-in")
        else:
            assert response.status_code == 404
    assert "Sam Taylor’s raters" not in other.get("/approvals/").text
    assert recipients(app) == ["morgan@example.org"]


def test_with_no_line_manager_an_administrator_approves(app, client, make_person, approving_cycle):
    make_person("Sam Taylor", "sam@example.org")
    make_person("Ada Admin", "ada@example.org", is_admin=True)
    sign_in(client, "sam@example.org")
    page = submit_form(client, "/", {}, action=f"/cycles/{approving_cycle.id}/request").location
    assert "you have no line manager on record" in page_text(client.get(page).text)
    for n in range(1, 4):
        nominate(client, page, f"Rater {n}", f"rater{n}@example.org")
    html = client.get(submit_form(client, page, {}, action=f"{page}/approval").location).text
    assert "Please ask an administrator to approve it" in page_text(html)
    assert outbox_messages(app) == []

    ada = app.test_client()
    sign_in(ada, "ada@example.org")
    waiting = page_text(ada.get("/approvals/").text)
    assert "Sam Taylor’s raters for Spring 2026" in waiting
    assert "no line manager on record, so an administrator approves" in waiting
    link = f"/approvals/{page.rsplit('/', 1)[1]}"
    submit_form(ada, link, {}, action=f"{link}/approve")

    assert recipients(app) == [f"rater{n}@example.org" for n in range(1, 4)]
    entry = db.session.scalars(db.select(AuditEntry).filter_by(action="nominations.approve")).one()
    assert entry.actor.email == "ada@example.org"
    assert "on behalf of the line manager" in entry.detail


def test_raters_added_after_approval_need_approval_too(
    app, client, approving_cycle, sam_reports_to_morgan
):
    page, request_id = sam_asks_for_approval(app, approving_cycle)
    morgan = app.test_client()
    sign_in(morgan, "morgan@example.org")
    link = f"/approvals/{request_id}"
    submit_form(morgan, link, {}, action=f"{link}/approve")

    sign_in(client, "sam@example.org")
    nominate(client, page, "Rater 4", "rater4@example.org")
    html = client.get(page).text
    assert "You have added raters since: ask for approval again" in page_text(html)
    submit_form(client, page, {}, action=f"{page}/approval")
    submit_form(morgan, link, {}, action=f"{link}/approve")

    invited = [m["To"] for m in outbox_messages(app) if m["To"] != "morgan@example.org"]
    assert sorted(invited) == [f"rater{n}@example.org" for n in range(1, 5)]


def test_a_list_not_sent_for_approval_stays_private(app, open_cycle, sam_reports_to_morgan):
    cycle = open_cycle(min_raters=3)
    sam = app.test_client()
    sign_in(sam, "sam@example.org")
    page = submit_form(sam, "/", {}, action=f"/cycles/{cycle.id}/request").location
    nominate(sam, page, "Rater 1", "rater1@example.org")
    morgan = app.test_client()
    sign_in(morgan, "morgan@example.org")

    assert morgan.get(f"/approvals/{page.rsplit('/', 1)[1]}").status_code == 404
    assert "Nothing is waiting for your approval." in morgan.get("/approvals/").text
