"""A coach's pages: their coachees, their released reports and the debriefs they record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback360.audit.models import AuditEntry
from feedback360.closing import close_cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.building import build_cycle_reports
from feedback360.timeutil import today
from tests.conftest import nominate_colleague, page_text, sign_in, submit_form

NOTE = "Sam wants to work on listening; follow up on the peer comments in June."


def all_fours(framework) -> Answers:
    return Answers({statement.id: 4 for statement in framework.statements})


def request_in_cycle(framework, subject, *, name: str = "Spring 2026", responders: int = 3):
    """The subject has assessed themself and three peers are invited, some of whom answered."""
    cycle = create_cycle(name, framework, threshold=3, min_raters=3)
    cycle.open()
    request = services.start_request(cycle, subject)
    services.submit_self_assessment(request, all_fours(framework))
    for n in range(1, 4):
        nominate_colleague(request, f"Rater {n}", f"rater{n}.{subject.id}@example.org", "peer")
    services.send_invitations(request)
    for invitation in request.invitations[:responders]:
        services.submit_rater_response(invitation, all_fours(framework))
    db.session.commit()
    return request


def close_and_build(request: FeedbackRequest, *, to_coaches: bool = False) -> None:
    close_cycle(request.cycle)
    build_cycle_reports(request.cycle)
    request.cycle.released_to_coaches = to_coaches
    db.session.commit()


def signed_in(app, email: str):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    sign_in(browser, email)
    return browser


def audit_entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry).filter_by(action=action)))


@pytest.fixture
def people(make_person):  # type: ignore[no-untyped-def]
    """Cora coaches Sam and Priya; Otto coaches Olly; Stella is staff; Ada administers."""
    cora = make_person("Cora Coach", "cora@example.org", is_coach=True)
    otto = make_person("Otto Other", "otto@example.org", is_coach=True)
    sam = make_person("Sam Taylor", "sam@example.org")
    priya = make_person("Priya Shah", "priya@example.org")
    olly = make_person("Olly Jones", "olly@example.org")
    make_person("Stella Staff", "stella@example.org")
    make_person("Ada Admin", "ada@example.org", is_admin=True)
    sam.coach, priya.coach, olly.coach = cora, cora, otto
    db.session.commit()
    return {"cora": cora, "otto": otto, "sam": sam, "priya": priya, "olly": olly}


def test_a_coach_sees_their_own_coachees_and_where_each_request_stands(app, framework, people):
    request_in_cycle(framework, people["sam"], responders=1)
    request_in_cycle(framework, people["olly"], name="Olly's cycle")

    page = page_text(signed_in(app, "cora@example.org").get("/coach/").text)

    assert "Sam Taylor" in page
    assert "Priya Shah" in page
    assert "Priya has not asked for feedback in any cycle yet" in page
    assert "Olly" not in page
    assert "Spring 2026 Open" in page
    assert "Done" in page
    assert "3 invited, 1 responded" in page
    assert "Not built yet" in page
    assert "Not yet." in page
    # Who was invited, and so who responded, is never shown (rule 7).
    assert "Rater 1" not in page
    assert "rater1" not in page


def test_the_report_is_refused_until_released_to_coaches_then_read_and_downloaded(
    app, framework, people
):
    request = request_in_cycle(framework, people["sam"])
    close_and_build(request)
    cora = signed_in(app, "cora@example.org")
    report_page, pdf = f"/coach/reports/{request.id}/", f"/coach/reports/{request.id}/report.pdf"

    assert "Built, not yet released to you" in page_text(cora.get("/coach/").text)
    for path in (report_page, pdf, f"/coach/reports/{request.id}/debrief"):
        refused = cora.get(path)
        assert refused.status_code == 403, path
        assert "This report has not been released to you yet" in refused.text
        assert refused.mimetype == "text/html"
    assert audit_entries("report.view") == []

    request.cycle.released_to_coaches = True
    db.session.commit()

    assert "Released to you" in page_text(cora.get("/coach/").text)
    shown = cora.get(report_page)
    assert shown.status_code == 200
    assert "Sam Taylor" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    # The link back speaks to the coach, and leads to their coachees (/coach/).
    assert '<a href="../../" class="back">Back to your coachees</a>' in shown.text
    # The report speaks to its subject; the coach is told so, once.
    assert page_text(shown.text).count("“you” in it means Sam") == 1
    assert "Back to your feedback" not in shown.text
    download = cora.get(pdf)
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF")
    disposition = download.headers["Content-Disposition"]
    assert 'filename="sam-taylor-spring-2026-feedback-report-coach-edition.pdf"' in disposition
    (viewed,) = audit_entries("report.view")
    (downloaded,) = audit_entries("report.download")
    assert viewed.actor_id == downloaded.actor_id == people["cora"].id
    # Released to coaches first: Sam still waits for the release to staff.
    assert signed_in(app, "sam@example.org").get(f"/reports/{request.id}/").status_code == 404


@pytest.mark.parametrize("suffix", ["", "report.pdf", "debrief"])
def test_another_coachs_coachee_is_as_unknown_as_a_missing_request(app, framework, people, suffix):
    request = request_in_cycle(framework, people["olly"])
    otto = signed_in(app, "otto@example.org")
    cora = signed_in(app, "cora@example.org")

    assert otto.get(f"/coach/reports/{request.id}/{suffix}").status_code == 403  # not released
    others = cora.get(f"/coach/reports/{request.id}/{suffix}")
    missing = cora.get(f"/coach/reports/{request.id + 100}/{suffix}")

    assert others.status_code == missing.status_code == 404
    assert page_text(others.text) == page_text(missing.text)
    assert "Olly" not in others.text


@pytest.mark.parametrize("path", ["/coach/", "/coach/reports/1/", "/coach/reports/1/debrief"])
def test_staff_and_administrators_are_refused_and_anonymous_visitors_sign_in(app, people, path):
    assert signed_in(app, "stella@example.org").get(path).status_code == 403
    assert signed_in(app, "ada@example.org").get(path).status_code == 403
    assert app.test_client().get(path).location.startswith("/sign-in")


def test_a_debrief_is_recorded_checked_and_kept_private_to_its_coach(app, framework, people):
    request = request_in_cycle(framework, people["sam"])
    close_and_build(request, to_coaches=True)
    cora = signed_in(app, "cora@example.org")
    page = f"/coach/reports/{request.id}/debrief"

    # A date in the future is refused, and what Cora typed is still there.
    tomorrow = (today() + timedelta(days=1)).isoformat()
    refused = submit_form(cora, page, {"held_on": tomorrow, "private_note": NOTE})
    assert refused.status_code == 400
    assert "The date of the debrief cannot be in the future." in refused.text
    assert f'value="{tomorrow}"' in refused.text
    assert NOTE in refused.text
    # So is a date before the report existed, an unreadable date and a blank one.
    for held_on, message in [
        ((today() - timedelta(days=1)).isoformat(), "before the report was ready"),
        ("next Tuesday", "Enter the date like 2026-03-14 or 14/03/2026."),
        ("", "Enter the date of the debrief."),
    ]:
        refused = submit_form(cora, page, {"held_on": held_on, "private_note": NOTE})
        assert refused.status_code == 400
        assert message in refused.text
        assert NOTE in refused.text
    assert audit_entries("debrief.record") == []

    saved = submit_form(cora, page, {"held_on": today().strftime("%d/%m/%Y"), "private_note": NOTE})
    assert saved.location == "/coach/"
    listing = page_text(cora.get("/coach/").text)
    assert f"Held on {today():%-d %B %Y}" in listing
    assert NOTE not in listing  # only on the debrief's own page
    assert NOTE in cora.get(page).text

    # Cora corrects it later; the form holds what she wrote.
    submit_form(cora, page, {"held_on": today().isoformat(), "private_note": "Shorter note."})
    assert "Shorter note." in cora.get(page).text
    entries = audit_entries("debrief.record")
    assert len(entries) == 2
    assert all(e.actor_id == people["cora"].id and NOTE not in e.detail for e in entries)

    # Sam, once the reports reach staff, never sees the note.
    request.cycle.release()
    db.session.commit()
    sam = signed_in(app, "sam@example.org")
    for path in ("/", f"/requests/{request.id}", f"/reports/{request.id}/"):
        assert sam.get(path).status_code == 200, path
        assert "Shorter note." not in sam.get(path).text


def test_a_new_coach_takes_over_and_the_old_coachs_note_stays_theirs(app, framework, people):
    request = request_in_cycle(framework, people["sam"])
    close_and_build(request, to_coaches=True)
    cora = signed_in(app, "cora@example.org")
    saved = submit_form(
        cora,
        f"/coach/reports/{request.id}/debrief",
        {"held_on": today().isoformat(), "private_note": NOTE},
    )
    assert "Debrief with Sam Taylor recorded." in cora.get(saved.location).text

    people["sam"].coach = people["otto"]
    db.session.commit()

    otto = signed_in(app, "otto@example.org")
    listing = page_text(otto.get("/coach/").text)
    assert "Sam Taylor" in listing
    assert f"Held with a previous coach on {today():%-d %B %Y}" in listing
    assert otto.get(f"/coach/reports/{request.id}/").status_code == 200
    debrief_page = otto.get(f"/coach/reports/{request.id}/debrief")
    assert debrief_page.status_code == 200
    assert NOTE not in debrief_page.text
    assert NOTE not in listing
    # Cora no longer coaches Sam: the report and her note are out of her reach.
    assert "Sam Taylor" not in page_text(cora.get("/coach/").text)
    assert cora.get(f"/coach/reports/{request.id}/").status_code == 404
    assert cora.get(f"/coach/reports/{request.id}/debrief").status_code == 404

    # Otto records his own debrief; Cora's stays as she wrote it.
    saved = submit_form(
        otto,
        f"/coach/reports/{request.id}/debrief",
        {"held_on": today().isoformat(), "private_note": "Otto's own note."},
    )
    assert saved.location == "/coach/"
    assert NOTE not in otto.get(f"/coach/reports/{request.id}/debrief").text
    people["sam"].coach = people["cora"]
    db.session.commit()
    assert NOTE in cora.get(f"/coach/reports/{request.id}/debrief").text
