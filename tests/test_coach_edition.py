"""The coach's edition of a personal report: the subject's report with a page for the coach,
kept at build, its PDF made on the coach's first download and kept; audited like any other."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports import render
from feedback360.reports.models import Report
from feedback360.reports.rendering import keep_rendered, render_frozen
from feedback360.reports.services import report_for, settings_for
from tests.test_coaching import (  # noqa: F401  (people: a fixture)
    audit_entries,
    close_and_build,
    people,
    request_in_cycle,
    signed_in,
)
from tests.test_render import pdf_text

COACH_PAGE = '<h2 id="coach-title">For the coach</h2>'
SUBJECTS_PDF = 'filename="sam-taylor-spring-2026-feedback-report.pdf"'
COACHS_PDF = 'filename="sam-taylor-spring-2026-feedback-report-coach-edition.pdf"'


@pytest.fixture
def released(framework, people) -> FeedbackRequest:  # noqa: F811
    """Sam's report, built and released to Sam and to Cora, his coach."""
    request = request_in_cycle(framework, people["sam"])
    close_and_build(request, to_coaches=True)
    request.cycle.release()
    db.session.commit()
    return request


@pytest.fixture
def pdf_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each page made into a PDF from now on, in order."""
    pages: list[str] = []
    made: Callable[[str], bytes] = render.pdf_of_page

    def counted(page: str) -> bytes:
        pages.append(page)
        return made(page)

    monkeypatch.setattr(render, "pdf_of_page", counted)
    return pages


def kept_report(request: FeedbackRequest) -> Report:
    db.session.expire_all()  # see what the app committed
    report = report_for(request)
    assert report is not None
    return report


def test_the_coach_reads_their_edition_and_the_subject_only_their_own(app, released):
    cora, sam = signed_in(app, "cora@example.org"), signed_in(app, "sam@example.org")
    coach_page = cora.get(f"/coach/reports/{released.id}/")
    subject_page = sam.get(f"/reports/{released.id}/")
    coach_pdf = cora.get(f"/coach/reports/{released.id}/report.pdf")
    subject_pdf = sam.get(f"/reports/{released.id}/report.pdf")

    assert COACH_PAGE in coach_page.text
    assert 'aria-labelledby="coach-title"' in coach_page.text
    assert "For the coach" not in subject_page.text
    # The coach's page still speaks to the coach about the way back and about "you".
    assert '<a href="../../" class="back">Back to your coachees</a>' in coach_page.text
    assert "“you” in it means Sam" in coach_page.text
    assert "Back to your feedback" not in coach_page.text
    assert "Back to your feedback" in subject_page.text

    assert "For the coach" in pdf_text(coach_pdf.data)
    assert "For the coach" not in pdf_text(subject_pdf.data)
    assert "Sam Taylor" in pdf_text(subject_pdf.data)
    assert COACHS_PDF in coach_pdf.headers["Content-Disposition"]
    assert SUBJECTS_PDF in subject_pdf.headers["Content-Disposition"]
    readers = {
        (entry.action, entry.actor_id)
        for action in ("report.view", "report.download")
        for entry in audit_entries(action)
    }
    assert readers == {
        (action, reader.id)
        for action in ("report.view", "report.download")
        for reader in (released.subject, released.subject.coach)
    }


def test_the_coachs_pdf_is_made_on_the_first_download_and_kept(app, released, pdf_renders):
    cora, otto = signed_in(app, "cora@example.org"), signed_in(app, "otto@example.org")
    page, pdf = f"/coach/reports/{released.id}/", f"/coach/reports/{released.id}/report.pdf"
    assert kept_report(released).coach_pdf is None  # not made at build

    # Otto coaches someone else: Sam's report is as unknown to him as a missing one.
    assert otto.get(page).status_code == otto.get(pdf).status_code == 404
    assert pdf_renders == []
    assert audit_entries("report.view") == audit_entries("report.download") == []

    first, second = cora.get(pdf), cora.get(pdf)

    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert pdf_renders == [kept_report(released).coach_print]
    assert kept_report(released).coach_pdf == first.data
    downloads = audit_entries("report.download")
    assert [entry.actor_id for entry in downloads] == [released.subject.coach.id] * 2
    assert all(entry.target == f"report {kept_report(released).id}" for entry in downloads)

    # A render kept afresh (a rebuild, before any release in the product) drops the PDF
    # made from the one before.
    report = kept_report(released)
    report.html = None
    db.session.commit()
    keep_rendered(report.id, render_frozen(report.document, settings_for(released.cycle)))
    db.session.commit()
    db.session.expire_all()
    assert kept_report(released).coach_pdf is None
    assert kept_report(released).coach_print is not None


def test_a_report_built_before_the_coachs_edition_reaches_the_coach_as_the_subjects_copy(
    app, released, pdf_renders
):
    report = kept_report(released)
    report.coach_html = report.coach_print = None
    db.session.commit()
    cora = signed_in(app, "cora@example.org")

    page = cora.get(f"/coach/reports/{released.id}/")
    pdf = cora.get(f"/coach/reports/{released.id}/report.pdf")

    assert page.status_code == pdf.status_code == 200
    assert "For the coach" not in page.text
    assert "Back to your coachees" in page.text
    assert pdf.data == kept_report(released).pdf
    assert SUBJECTS_PDF in pdf.headers["Content-Disposition"]
    assert pdf_renders == []
    assert kept_report(released).coach_pdf is None
    assert len(audit_entries("report.view")) == len(audit_entries("report.download")) == 1
