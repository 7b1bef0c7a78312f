"""Journeys through the app in real Chromium, each page checked with axe and photographed.

The set-up (people, a cycle, invitations, answers) uses services; everything the person in
the journey does, they do in the browser.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from feedback360.accounts import second_factor
from feedback360.accounts.services import add_person, person_by_email
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from tests.conftest import (
    BUILD_TIMEOUT,
    PASSWORD,
    add_signed_up,
    authenticator_code,
    outbox_messages,
    text_of,
    wait_for_the_build_process,
)

# The app each journey is served by runs on the suite's database.
pytestmark = pytest.mark.suite_database

CYCLE = "Spring 2026"
RATERS = [(f"Rater {n}", f"rater{n}@example.org") for n in range(1, 6)]


def seed_cycle(*, send: bool = True, **settings: object):  # type: ignore[no-untyped-def]
    """Sam Taylor (coached by Cora Lane) nominates five peers in an open cycle and, when
    `send`, invites them; Ada administers."""
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    add_signed_up("Ada Admin", "ada@example.org", is_admin=True)
    coach = add_signed_up("Cora Lane", "cora@example.org", is_coach=True)
    sam = add_person("Sam Taylor", "sam@example.org", password=PASSWORD)
    sam.coach = coach
    cycle = create_cycle(CYCLE, framework, min_raters=len(RATERS), **settings)
    cycle.open()
    request = services.start_request(cycle, sam)
    for name, email in RATERS:
        add_person(name, email)  # colleagues on the staff list
        services.nominate(request, name, email, "peer")
    if send:
        services.send_own_invitations(request)
    db.session.commit()
    return cycle, request


def mailed_link(app, email: str) -> str:  # type: ignore[no-untyped-def]
    """The personal link in the invitation this rater received."""
    message = next(m for m in outbox_messages(app) if m["To"] == email)
    match = re.search(r"https?://\S+/r/[A-Za-z0-9_\-]+", text_of(message))
    assert match, text_of(message)
    return match.group(0)


def answer_everything(request, email: str, score: int = 4) -> None:  # type: ignore[no-untyped-def]
    invitation = next(i for i in request.invitations if i.email == email)
    statements = request.cycle.framework.statements
    services.submit_rater_response(invitation, Answers({s.id: score for s in statements}))
    db.session.commit()


def sign_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if second_factor.required_for(person_by_email(email)):  # type: ignore[arg-type]
        page.get_by_label("Code", exact=True).fill(authenticator_code(email))
        page.get_by_role("button", name="Sign in").click()
    sees(page.locator("header"), "Sign out")


def sees_heading(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """The page's main heading reads `text` (waiting briefly, as a person would)."""
    from playwright.sync_api import expect  # here: without Playwright the tests skip

    expect(page.locator("h1")).to_have_text(text)


def sees(where, text: str) -> None:  # type: ignore[no-untyped-def]
    """The page's main part (or the given part) shows `text`."""
    from playwright.sync_api import expect

    expect(where.locator("main") if hasattr(where, "goto") else where).to_contain_text(text)


def test_a_rater_declines_and_another_reopens_a_used_link(live_app, new_page, visits):
    _, request = seed_cycle()
    answer_everything(request, "rater2@example.org")

    # Rater 1, on a phone, reads the first page and declines.
    rater = new_page(375)
    rater.goto(mailed_link(live_app, "rater1@example.org"))
    sees_heading(rater, "Sam Taylor has asked for your feedback")
    visits.check(rater, "start")
    rater.get_by_role("link", name="I would rather not give feedback").click()
    sees_heading(rater, "Decline to give feedback to Sam Taylor?")
    visits.check(rater, "decline")
    rater.get_by_role("button", name="Decline").click()
    sees_heading(rater, "You have declined")
    assert "Nothing you entered has been kept." in rater.content()
    visits.check(rater, "declined")

    # Their link no longer opens the form.
    response = rater.goto(mailed_link(live_app, "rater1@example.org"))
    assert response.status == 410
    sees_heading(rater, "You declined this request")
    visits.check(rater, "declined-link")

    # Rater 2 already sent their answers and opens the link again, at a desktop.
    other = new_page(1280)
    response = other.goto(mailed_link(live_app, "rater2@example.org"))
    assert response.status == 410
    sees_heading(other, "Your feedback has already been sent")
    sees(other, "can no longer be seen or changed")
    visits.check(other, "used-link")


def confirm(page, link: str, button, done: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a dashboard link to its confirmation page, confirm, and see it done."""
    page.get_by_role("link", name=link).click()
    sees(page, "This cannot be undone.")
    page.get_by_role("button", name=button).click()
    sees(page, done)


def follow_the_build(page) -> str:  # type: ignore[no-untyped-def]
    """Watch the dashboard, without reloading it, until its status says the build ended."""
    from playwright.sync_api import expect

    status = page.locator("[data-build-status-text]")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("The last build has finished.", timeout=BUILD_TIMEOUT * 1000)
    wait_for_the_build_process()  # so that it writes nothing after the test
    return page.locator("main").inner_text()


def download_pdf(page, link_name: str) -> bytes:  # type: ignore[no-untyped-def]
    with page.expect_download() as event:
        page.get_by_role("link", name=link_name).click()
    return event.value.path().read_bytes()


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:20]
    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def test_an_administrator_closes_builds_and_releases_then_coach_and_staff_download(
    live_app, new_page, visits
):
    cycle, request = seed_cycle(release_mode="coach_first")
    for _, email in RATERS[:4]:
        answer_everything(request, email)
    dashboard = f"/admin/cycles/{cycle.id}"

    # Ada signs in at her desk and closes the cycle from its dashboard.
    ada = new_page(1280)
    sign_in(ada, "ada@example.org")
    ada.goto(dashboard)
    visits.check(ada, "dashboard-open")
    ada.get_by_role("link", name="Close the cycle now").click()
    visits.check(ada, "confirm-close")
    ada.get_by_role("button", name=re.compile("Close")).click()
    ada.wait_for_load_state()
    sees(ada, "The cycle is closed, and its reports are being built")
    visits.check(ada, "dashboard-closed")

    # The close started the build: she follows the dashboard until the reports are built.
    ada.evaluate("document.querySelector('main').dataset.loaded = 'once'")
    text = follow_the_build(ada)
    assert ada.evaluate("document.querySelector('main').dataset.loaded") == "once"  # in place
    assert "1 of 1 report built. The last build has finished." in text
    visits.check(ada, "dashboard-built")

    # Coaches first.
    confirm(
        ada, "Release to coaches", re.compile("Release"), "The reports are released to coaches."
    )
    visits.check(ada, "dashboard-coaches")

    # Cora, on her phone, reads Sam's report and downloads the PDF.
    cora = new_page(375)
    sign_in(cora, "cora@example.org")
    cora.goto("/coach/")
    visits.check(cora, "coach-list")
    cora.get_by_role("link", name=re.compile("Read.*Sam Taylor")).click()
    sees_heading(cora, "Sam Taylor")
    visits.check(cora, "coach-report")
    assert "Sam Taylor" in pdf_text(download_pdf(cora, "Download PDF"))

    # Then Ada releases to staff, and Sam downloads his own report from home.
    ada.goto(dashboard)
    confirm(ada, "Release to staff", re.compile("Release"), "The reports are released to staff.")
    visits.check(ada, "dashboard-staff")

    sam = new_page(1280)
    sign_in(sam, "sam@example.org")
    sam.goto("/")
    visits.check(sam, "home-released")
    text = pdf_text(download_pdf(sam, "Download the PDF"))
    assert "Sam Taylor" in text
    assert re.search(r"Total responses \(not counting yourself\) 4\b", text)


def test_the_pages_a_staff_member_sees_pass_axe_at_both_widths(live_app, new_page, visits):
    _, request = seed_cycle(send=False)  # raters chosen, invitations not sent yet
    sam = new_page(1280)
    sam.goto("/sign-in")
    visits.check(sam, "sign-in")
    sign_in(sam, "sam@example.org")
    sam.goto("/")
    sees_heading(sam, "Your feedback")
    visits.check(sam, "home")
    sam.get_by_role("link", name=CYCLE).click()
    visits.check(sam, "request")
    sam.goto(f"/requests/{request.id}/self")
    visits.check(sam, "self-assessment")
