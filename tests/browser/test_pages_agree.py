"""What the request page promises about each rater group is what the report then does.

Three peers and one "other" answer, with a threshold of three: the peers are enough on their
own, yet the report pools them with the lone other (rule 4, or the other's answers could be
worked out by subtraction). The page must say so during the cycle and after it, and the
report must agree. Seeding and closing use services; Sam reads in Chromium.
"""

from __future__ import annotations

import pytest

from feedback360.accounts.services import add_person
from feedback360.closing import close_cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.services import release_reports
from tests.browser.test_browser_journeys import sees, sees_heading, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.suite_database

# Every responding group is pooled here, so the pool is shown only as "All raters".
POOLED_SO_FAR = "shown so far only within “All raters”, together with other groups"
POOLED = "shown within “All raters”, together with other groups"


def seed_pooled_peers():  # type: ignore[no-untyped-def]
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    sam = add_person("Sam Taylor", "sam@example.org", password=PASSWORD)
    cycle = create_cycle("Spring 2026", framework, threshold=3, min_raters=4)
    cycle.open()
    request = services.start_request(cycle, sam)
    services.submit_self_assessment(request, Answers({s.id: 3 for s in framework.statements}))
    raters = [(f"Peer {n}", f"peer{n}@example.org", "peer") for n in range(1, 4)]
    for name, email, group in [*raters, ("Olly Other", "olly@example.org", "other")]:
        add_person(name, email)
        services.nominate(request, name, email, group)
    services.send_own_invitations(request)
    for invitation in request.invitations:
        services.submit_rater_response(invitation, Answers({s.id: 4 for s in framework.statements}))
    db.session.commit()
    return cycle, request


def test_the_request_page_says_what_the_report_then_does_with_each_group(
    live_app, new_page, visits
):
    cycle, request = seed_pooled_peers()
    sam = new_page(375)
    sign_in(sam, "sam@example.org")
    page = f"/requests/{request.id}"

    # During the cycle: the peers are enough on their own, yet the report would pool them.
    sam.goto(page)
    responses = sam.locator("section", has=sam.locator("#responses-heading"))
    sees(responses, f"Peers: {POOLED_SO_FAR}")
    sees(responses, f"Others: {POOLED_SO_FAR}")
    assert "enough responses to be shown on its own" not in responses.inner_text()
    visits.check(sam, "request-open")

    # Closed: no "so far", no "yet".
    close_cycle(cycle)
    db.session.commit()
    sam.goto(page)
    sees(responses, f"Peers: {POOLED}")
    assert "yet" not in responses.inner_text()
    assert "so far" not in responses.inner_text()
    visits.check(sam, "request-closed")

    # The report does what the page said.
    build_cycle_reports(cycle)
    release_reports(cycle)
    db.session.commit()
    sam.goto(f"/reports/{request.id}/")
    sees_heading(sam, "Sam Taylor")
    who = sam.get_by_role("table", name="Who responded")
    pooled = "Not shown on its own, to protect anonymity: included in All raters"
    sees(who.get_by_role("row", name="Peers"), pooled)
    sees(who.get_by_role("row", name="Others"), pooled)
    assert sam.get_by_role("columnheader", name="Peers").count() == 0
    assert sam.get_by_role("columnheader", name="Other raters").count() == 0
    assert sam.get_by_role("columnheader", name="All raters").count() > 0
