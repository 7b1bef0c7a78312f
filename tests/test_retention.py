"""Data retention: rater-level answers go once their time is up; reports and figures stay."""

from __future__ import annotations

from datetime import date

import pytest

from feedback360.audit.models import AuditEntry
from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services as feedback
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import Comment, FeedbackRequest, Invitation, Response
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.models import OrganisationSummary
from feedback360.reports.services import release_reports
from feedback360.retention import apply_retention
from tests.conftest import DATABASES, PASSWORD, app_on, nominate_colleague, page_text, sign_in
from tests.test_organisation_page import OFFICER, TERRITORIAL, run_cycle, take_part

RELEASED_ON = date(2026, 1, 10)
DUE_ON = date(2026, 4, 10)  # 90 days later, the default


def release(cycle: Cycle, on: date = RELEASED_ON) -> None:
    build_cycle_reports(cycle)
    release_reports(cycle)
    cycle.released_on = on
    db.session.commit()


@pytest.fixture
def app(request, tmp_path, monkeypatch):
    """The suite's database, unless a test asks for each."""
    with app_on(getattr(request, "param", None), tmp_path, monkeypatch) as app:
        yield app


@pytest.fixture
def released(framework, make_person):
    """Three officers took part; one rater left a draft and one a comment; reports are out."""
    cycle = create_cycle("Spring 2026", framework, min_raters=3)
    cycle.open()
    requests = []
    for number in range(1, 4):
        person = make_person(f"Officer {number}", business_unit=TERRITORIAL, staff_type=OFFICER)
        requests.append(take_part(cycle, person, raters_score=4, own_score=5))
    first = requests[0]
    late = nominate_colleague(first, "Late Rater", "late@example.org", "peer")
    feedback.send_invitations(first)
    answers = Answers({s.id: 2 for s in framework.statements[:3]})
    answers.comments[framework.values[0].id] = "Still thinking about this."
    feedback.save_rater_draft(late, answers)
    commented = Answers({s.id: 4 for s in framework.statements})
    commented.comments[framework.values[0].id] = "Always makes time for victims."
    extra = nominate_colleague(first, "Keen Rater", "keen@example.org", "peer")
    feedback.send_invitations(first)
    feedback.submit_rater_response(extra, commented)
    close_cycle(cycle)
    db.session.commit()
    release(cycle)
    return cycle


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def kept() -> tuple[int, int, int]:
    drafts = sum(
        1
        for invitation in db.session.scalars(db.select(Invitation))
        if invitation.sealed_answers is not None
    )
    return count(Response), count(Comment), drafts


def test_nothing_changes_before_the_retention_period_is_over(runner, released):
    before = kept()
    assert before == (13, 1, 0)  # 3 self, 10 raters; the close wiped the late draft

    result = runner.invoke(args=["retention", "apply", "--today", "2026-04-09"])

    assert result.exit_code == 0, result.output
    assert "No cycle is due for deletion." in result.output
    assert kept() == before
    db.session.refresh(released)
    assert released.responses_deleted_on is None
    assert db.session.get(OrganisationSummary, released.id) is not None  # kept at the close


@pytest.mark.parametrize("app", DATABASES, indirect=True)
def test_after_the_period_answers_go_but_reports_and_figures_stay(app, runner, released, admin):
    summary_page = f"/admin/cycles/{released.id}/organisation"
    figures_before = admin.get(f"{summary_page}.csv?by=staff_type").text
    assert "4.00" in figures_before

    result = runner.invoke(args=["retention", "apply", "--today", DUE_ON.isoformat()])

    assert result.exit_code == 0, result.output
    assert "Deleted the 13 responses of “Spring 2026”." in result.output
    assert kept() == (0, 0, 0)
    assert all(
        request.self_draft is None for request in db.session.scalars(db.select(FeedbackRequest))
    )
    db.session.refresh(released)
    assert released.responses_deleted_on == DUE_ON

    # Each officer still reads and downloads their report.
    officer = app.test_client()
    sign_in(officer, "officer.1@example.org", PASSWORD)
    request = db.session.scalars(db.select(FeedbackRequest).order_by(FeedbackRequest.id)).first()
    download = officer.get(f"/reports/{request.id}/report.pdf")
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF")
    assert "Officer 1" in officer.get(f"/reports/{request.id}/").text

    # The organisation summary is the one kept, with the same figures.
    assert admin.get(f"{summary_page}.csv?by=staff_type").text == figures_before
    page = page_text(admin.get(summary_page).text)
    assert "individual answers were deleted on 10 April 2026" in page
    assert "4.00" in page

    # The administrator sees that the system did it.
    log = page_text(admin.get("/admin/audit?action=retention.apply").text)
    assert "The system Answers deleted at the end of the retention period Spring 2026" in log
    assert "Deleted the 13 responses" in log


def test_a_second_run_changes_nothing(runner, released):
    apply_retention(DUE_ON)
    db.session.commit()
    made_at = db.session.get(OrganisationSummary, released.id).made_at
    entries = count(AuditEntry)

    result = runner.invoke(args=["retention", "apply", "--today", "2026-12-31"])

    assert result.exit_code == 0, result.output
    assert "No cycle is due for deletion." in result.output
    assert db.session.get(OrganisationSummary, released.id).made_at == made_at
    assert count(AuditEntry) == entries


def test_cycles_not_released_or_kept_longer_are_left_alone(runner, released, framework):
    closed = run_cycle(framework, [(TERRITORIAL, OFFICER, 3, 3, 3)], name="Autumn 2026")
    released.retention_days = 365
    db.session.commit()
    before = kept()

    result = runner.invoke(args=["retention", "apply", "--today", "2026-12-31"])

    assert "No cycle is due for deletion." in result.output
    assert kept() == before
    assert closed.responses_deleted_on is None


def test_a_bad_date_is_refused_with_a_message(runner):
    result = runner.invoke(args=["retention", "apply", "--today", "next tuesday"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output or "%Y-%m-%d" in result.output
