"""Issue 13, point 4: a subject cannot rate themself in disguise, nor choose their "manager".

With any address allowed, a subject could nominate one real direct report and two addresses
they read themselves, reach k, and read the real person's answers as 3 × mean − puppet −
puppet. And a peer nominated as "line manager" is shown on their own where the manager is
identifiable. Now raters come from the staff list; an outside address waits for the line
manager's approval; a line manager other than the recorded one waits for an
administrator's; and the subject's own mailbox is refused in any spelling.
"""

from __future__ import annotations

import pytest

from feedback360.accounts.mailboxes import mailbox
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import approvals, services
from feedback360.feedback.models import NOMINATED, Invitation
from tests.conftest import link_in, outbox_messages, page_text, sign_in, submit_form


def invitations_sent(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["To"] for m in outbox_messages(app) if "asks for your feedback" in m["Subject"]]


@pytest.fixture
def sam(make_person):  # type: ignore[no-untyped-def]
    """Sam, managed by Morgan, with Dee (a direct report) and Pat (a peer) on the staff list."""
    morgan = make_person("Morgan Lee", "morgan@example.org")
    make_person("Dee Report", "dee@example.org")
    make_person("Pat Peer", "pat@example.org")
    return make_person("Sam Taylor", "sam.taylor@gmail.com", line_manager=morgan)


def request_of(sam, open_cycle, **settings):  # type: ignore[no-untyped-def]
    cycle = open_cycle(min_raters=3, **settings)
    request = services.start_request(cycle, sam)
    db.session.commit()
    return request


@pytest.mark.parametrize(
    "alias",
    [
        "sam.taylor@gmail.com",
        "Sam.Taylor@GMAIL.com",
        "samtaylor@gmail.com",  # Gmail ignores dots
        "s.a.m.t.a.y.l.o.r+puppet@googlemail.com",  # and tags, and has two names
    ],
)
def test_the_subject_cannot_nominate_their_own_mailbox_in_any_spelling(sam, open_cycle, alias):
    request = request_of(sam, open_cycle, outside_raters=True)
    with pytest.raises(DomainError, match="cannot nominate yourself"):
        services.nominate(request, "Puppet", alias, "peer")
    assert request.invitations == []


def test_plus_tags_and_case_reach_the_same_mailbox_but_an_organisations_dots_matter():
    assert mailbox("Pat+Spare@Example.org") == mailbox("pat@example.org")
    assert mailbox("p.at@example.org") != mailbox("pat@example.org")


def test_by_default_an_address_outside_the_staff_list_is_refused(sam, open_cycle):
    request = request_of(sam, open_cycle)
    with pytest.raises(DomainError, match="not on the staff list"):
        services.nominate(request, "Puppet One", "puppet1@elsewhere.example.net", "peer")
    with pytest.raises(DomainError, match="not on the staff list"):
        services.nominate(request, "Pat Spare", "pat+spare@example.org", "peer")
    assert request.invitations == []


def test_the_same_colleague_twice_under_two_spellings_is_refused(sam, open_cycle):
    request = request_of(sam, open_cycle, outside_raters=True)
    services.nominate(request, "Pat", "pat@example.org", "peer")
    with pytest.raises(DomainError, match="already on your list"):
        services.nominate(request, "Pat again", "PAT+second@example.org", "peer")


def test_sock_puppets_wait_for_the_line_manager_who_sees_who_they_are(
    app, sam, open_cycle, framework
):
    """The attack of the issue, in a cycle that allows outside raters: one real direct report
    and two addresses Sam reads. No invitation goes out until Morgan approves, and Morgan sees
    that two raters are not on the staff list, and can take them off."""
    request = request_of(sam, open_cycle, outside_raters=True)
    services.nominate(request, "Dee Report", "dee@example.org", "direct_report")
    for n in (1, 2):
        services.nominate(
            request, f"Puppet {n}", f"puppet{n}@elsewhere.example.net", "direct_report"
        )
    db.session.commit()
    with pytest.raises(DomainError, match="must be approved"):
        services.send_own_invitations(request)
    assert invitations_sent(app) == []

    approvals.ask_for_approval(request)
    db.session.commit()
    morgan = app.test_client()
    sign_in(morgan, "morgan@example.org")
    page = page_text(morgan.get(f"/approvals/{request.id}").text)
    assert "Puppet 1 Not on the staff list: needs approval" in page
    assert "Dee Report Not on" not in page

    for invitation in [i for i in request.invitations if i.name.startswith("Puppet")]:
        submit_form(
            morgan,
            f"/approvals/{request.id}",
            {},
            action=f"/approvals/{request.id}/raters/{invitation.id}/remove",
        )
    db.session.refresh(request)
    assert [i.name for i in request.invitations] == ["Dee Report"]
    assert invitations_sent(app) == []  # still none: the list is below the minimum


def test_an_approved_outside_rater_is_told_who_nominated_and_who_approved(app, sam, open_cycle):
    request = request_of(sam, open_cycle, outside_raters=True)
    for name, email in (("Dee Report", "dee@example.org"), ("Pat Peer", "pat@example.org")):
        services.nominate(request, name, email, "peer")
    services.nominate(request, "Rob Partner", "rob@charity.example.org", "other")
    approvals.ask_for_approval(request)
    morgan = db.session.get(type(sam), sam.line_manager_id)
    assert approvals.approve(request, morgan) == 3
    db.session.commit()

    (invitation,) = [m for m in outbox_messages(app) if m["To"] == "rob@charity.example.org"]
    start = page_text(app.test_client().get(link_in(invitation)).text)
    assert "Sam Taylor chose you as a rater, and Morgan Lee approved it." in start


def test_a_peer_named_as_line_manager_waits_for_an_administrator(app, sam, open_cycle, make_person):
    """Where the manager's answers are shown alone, Sam could name a friendly peer."""
    ada = make_person("Ada Admin", "ada@example.org", is_admin=True)
    request = request_of(sam, open_cycle, manager_identifiable=True)
    services.nominate(request, "Pat Peer", "pat@example.org", "line_manager")
    services.nominate(request, "Dee Report", "dee@example.org", "direct_report")
    services.nominate(request, "Morgan Lee", "morgan@example.org", "peer")
    with pytest.raises(DomainError, match="must be approved"):
        services.send_own_invitations(request)
    approvals.ask_for_approval(request)
    db.session.commit()

    # Morgan, the recorded manager, is not the approver here: only an administrator is.
    morgan = db.session.get(type(sam), sam.line_manager_id)
    assert not approvals.may_approve(morgan, request)
    assert approvals.may_approve(ada, request)
    administrator = app.test_client()
    sign_in(administrator, "ada@example.org")
    page = page_text(administrator.get(f"/approvals/{request.id}").text)
    assert "Pat Peer Not the line manager on record: needs an administrator’s approval" in page
    assert "names a line manager who is not the one on record" in page

    approved = submit_form(
        administrator, f"/approvals/{request.id}", {}, action=f"/approvals/{request.id}/approve"
    )
    assert "List approved: 3 invitations sent." in page_text(
        administrator.get(approved.location).text
    )
    db.session.expire_all()
    pat = db.session.scalars(db.select(Invitation).filter_by(email="pat@example.org")).one()
    assert pat.status != NOMINATED
    assert pat.approved_by_id == ada.id


def test_the_recorded_line_manager_needs_no_approval(app, sam, open_cycle):
    request = request_of(sam, open_cycle, manager_identifiable=True)
    services.nominate(request, "Morgan Lee", "morgan@example.org", "line_manager")
    services.nominate(request, "Pat Peer", "pat@example.org", "peer")
    services.nominate(request, "Dee Report", "dee@example.org", "direct_report")
    assert services.send_own_invitations(request) == 3
