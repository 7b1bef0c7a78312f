"""A staff member builds their list of raters: suggestions, free entry and the cycle's rules."""

from __future__ import annotations

import re

import pytest

from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.groups import PEER
from tests.conftest import (
    nominate_and_send,
    on_staff_list,
    outbox_messages,
    page_text,
    sign_in,
    submit_form,
)


@pytest.fixture
def sam_and_colleagues(make_person):
    """Sam in Camden with a line manager, a direct report, peers, a leaver and an outsider."""
    morgan = make_person("Morgan Lee", "morgan@example.org", business_unit="Camden")
    sam = make_person("Sam Taylor", "sam@example.org", business_unit="Camden", line_manager=morgan)
    people = {
        "morgan": morgan,
        "sam": sam,
        "robin": make_person(
            "Robin Report", "robin@example.org", business_unit="Camden", line_manager=sam
        ),
        "pat": make_person("Pat Peer", "pat@example.org", business_unit="Camden"),
        "kim": make_person("Kim Colleague", "kim@example.org", business_unit="Camden"),
        "lee": make_person("Lee Leaver", "lee@example.org", business_unit="Camden"),
        "oli": make_person("Oli Outsider", "oli@example.org", business_unit="Hackney"),
    }
    people["lee"].active = False
    db.session.commit()
    return people


def start_request(client, cycle) -> str:
    sign_in(client, "sam@example.org")
    return submit_form(client, "/", {}, action=f"/cycles/{cycle.id}/request").location


def suggested(html: str) -> dict[str, str]:
    """Each suggested person's name with the group selected for them."""
    rows = re.findall(
        r"<span>Ask ([^<]+)</span>.*?<select[^>]*>(.*?)</select>", html, flags=re.DOTALL
    )
    return {
        name: re.search(r'<option selected value="([^"]+)"', options).group(1)
        for name, options in rows
    }


def nominate(client, page: str, name: str, email: str, group: str):
    on_staff_list([(name, email)])
    data = {"name": name, "email": email, "group": group}
    return submit_form(client, page, data, action=f"{page}/nominations")


def test_the_page_suggests_the_line_manager_and_colleagues_in_the_unit(
    client, open_cycle, sam_and_colleagues
):
    page = start_request(client, open_cycle())
    nominate(client, page, "Kim Colleague", "KIM@example.org", "peer")

    assert suggested(client.get(page).text) == {
        "Morgan Lee": "line_manager",
        "Robin Report": "direct_report",
        "Pat Peer": "peer",
    }
    # Not the leaver, not the other unit, not Sam, not Kim who is on the list already.


def test_ticking_suggestions_nominates_them_with_the_group_chosen(
    client, open_cycle, sam_and_colleagues
):
    people = sam_and_colleagues
    page = start_request(client, open_cycle())
    robin, pat = people["robin"].id, people["pat"].id

    response = submit_form(
        client,
        page,
        {
            f"ask_{robin}": "y",
            f"group_{robin}": "direct_report",
            f"ask_{pat}": "y",
            f"group_{pat}": "other",
        },  # fmt: skip
        action=f"{page}/nominations/suggested",
    )

    assert response.status_code == 302
    html = client.get(page).text
    text = page_text(html)
    assert "2 people added to your list." in text
    assert "Robin Report robin@example.org Direct report Not sent yet" in text
    assert "Pat Peer pat@example.org Other Not sent yet" in text
    assert suggested(html) == {"Morgan Lee": "line_manager", "Kim Colleague": "peer"}


def test_changing_the_list_returns_to_the_list_and_says_so_there(
    client, open_cycle, sam_and_colleagues
):
    page = start_request(client, open_cycle(min_raters=3))
    nominate(client, page, "Bo Other", "bo@example.org", "other")
    nominate(client, page, "Cy Other", "cy@example.org", "other")
    added = nominate(client, page, "Ann Other", "ann@example.org", "other")
    # Back to the list of raters, not to the top of a long page.
    assert added.location == f"{page}#raters-heading"
    html = client.get(page).text
    raters = html[html.index('id="raters-heading"') :]
    assert "Ann Other added to your list." in page_text(raters)
    assert html.count("Ann Other added to your list.") == 1
    sent = submit_form(client, page, {}, action=f"{page}/invitations")
    assert sent.location == f"{page}#raters-heading"
    html = client.get(page).text
    assert "3 invitations sent." in page_text(html[html.index('id="raters-heading"') :])


def test_ticking_nobody_or_too_many_is_explained_and_the_ticks_are_kept(
    client, open_cycle, sam_and_colleagues
):
    people = sam_and_colleagues
    page = start_request(client, open_cycle(min_raters=3, max_raters=3))
    nominate(client, page, "Ann Other", "ann@example.org", "other")
    nominate(client, page, "Bo Other", "bo@example.org", "other")

    nothing = submit_form(client, page, {}, action=f"{page}/nominations/suggested")
    assert nothing.status_code == 400
    assert "Tick the people you want to add to your list." in page_text(nothing.text)

    robin, pat = people["robin"].id, people["pat"].id
    too_many = submit_form(
        client,
        page,
        {f"ask_{robin}": "y", f"group_{robin}": "peer", f"ask_{pat}": "y", f"group_{pat}": "peer"},
        action=f"{page}/nominations/suggested",
    )
    assert too_many.status_code == 400
    assert "You ticked 2 people but this cycle allows at most 3 raters, so only 1 more" in (
        page_text(too_many.text)
    )
    assert f'checked id="ask_{robin}"' in too_many.text
    assert f'checked id="ask_{pat}"' in too_many.text
    assert "robin@example.org Peer" not in page_text(client.get(page).text)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "Me", "email": "SAM@Example.org", "group": "peer"},
            "You cannot nominate yourself",
        ),
        (
            {"name": "Ann again", "email": "Ann@EXAMPLE.org", "group": "peer"},
            "ann@example.org is already on your list.",
        ),
        (
            {"name": "Second boss", "email": "boss@example.org", "group": "line_manager"},
            "There is already a line manager on your list.",
        ),
        ({"name": "Dee", "email": "dee@example.org", "group": "direct_report"}, "Not a valid"),
        ({"name": "", "email": "dee@example.org", "group": "peer"}, "Enter the rater’s name."),
    ],
)
def test_refused_nominations_say_why_and_keep_what_was_typed(
    client, open_cycle, make_person, data, message
):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    cycle.rater_groups = ["line_manager", "peer", "other"]
    db.session.commit()
    page = start_request(client, cycle)
    nominate(client, page, "Ann Peer", "ann@example.org", "peer")
    nominate(client, page, "Morgan Lee", "morgan@example.org", "line_manager")

    response = nominate(client, page, **data)

    assert response.status_code == 400
    assert message in page_text(response.text)
    assert f'value="{data["email"]}"' in response.text
    if data["name"]:
        assert f'value="{data["name"]}"' in response.text


def test_only_the_cycles_groups_are_offered(client, open_cycle, make_person):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    cycle.rater_groups = ["peer", "other"]
    db.session.commit()
    html = client.get(start_request(client, cycle)).text
    offered = re.findall(r'<option[^>]*value="([^"]*)"', html)
    assert offered == ["", "peer", "other"]


def test_the_cycles_maximum_and_minimum_are_enforced(client, app, open_cycle, make_person):
    make_person("Sam Taylor", "sam@example.org")
    page = start_request(client, open_cycle(min_raters=3, max_raters=4))
    for n in range(1, 3):
        nominate(client, page, f"Rater {n}", f"rater{n}@example.org", "peer")

    too_few = submit_form(client, page, {}, action=f"{page}/invitations")
    assert "Nominate at least 3 raters before sending invitations; you have 2." in (
        page_text(client.get(too_few.location).text)
    )
    assert outbox_messages(app) == []

    for n in range(3, 5):
        nominate(client, page, f"Rater {n}", f"rater{n}@example.org", "peer")
    html = client.get(page).text
    assert "Your list is full: this cycle allows at most 4 raters." in page_text(html)
    one_more = nominate(client, page, "Rater 5", "rater5@example.org", "peer")
    assert one_more.status_code == 400
    assert "This cycle allows at most 4 raters; remove one to add another." in (
        page_text(one_more.text)
    )
    assert 'value="rater5@example.org"' in one_more.text


def test_without_approval_the_staff_member_sends_the_invitations(
    client, app, open_cycle, make_person
):
    make_person("Sam Taylor", "sam@example.org")
    page = start_request(client, open_cycle(min_raters=3))
    raters = [(f"Rater {n}", f"rater{n}@example.org", "peer") for n in range(1, 4)]
    for name, email, group in raters:
        nominate(client, page, name, email, group)
    html = client.get(page).text
    assert "Send invitations" in html
    assert "approve" not in html.lower()

    nominate_and_send(client, page, [])

    assert sorted(m["To"] for m in outbox_messages(app)) == [e for _, e, _ in raters]
    text = page_text(client.get(page).text)
    assert "Rater 1 rater1@example.org Peer Sent" in text


def test_a_close_in_the_same_transaction_refuses_the_next_nomination(
    sam_and_colleagues, open_cycle
):
    """The open cycle is read (and locked) once per transaction; closing it in that same
    transaction makes the next nomination read it again."""
    cycle = open_cycle()
    request = services.start_request(cycle, sam_and_colleagues["sam"])
    services.nominate(request, "Pat Peer", "pat@example.org", PEER)
    cycle.close()  # here without committing
    with pytest.raises(DomainError, match="has closed"):
        services.nominate(request, "Kim Colleague", "kim@example.org", PEER)
    assert [i.email for i in request.invitations] == ["pat@example.org"]
