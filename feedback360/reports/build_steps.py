"""What every way of building reports shares: render one report, and say how it came out."""

from __future__ import annotations

from dataclasses import dataclass

from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.results import ReportDocument
from feedback360.reports.models import Report
from feedback360.reports.render import report_html, report_pdf


@dataclass(frozen=True)
class Built:
    """One request's outcome: its stored report, or why it could not be built."""

    request_id: int
    subject_name: str
    report: Report | None
    error: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A report as rendered at build: the subject's page and PDF, and the coach's edition's
    page and page for print (its PDF is made on a coach's first download)."""

    html: str
    pdf: bytes
    coach_html: str
    coach_print: str


def render_report(document: ReportDocument, settings: CycleSettings) -> Rendered:
    """The report rendered for keeping; pure, so it can run in another process."""
    return Rendered(
        html=report_html(document, pdf_url="report.pdf", settings=settings),
        pdf=report_pdf(document, settings=settings),
        coach_html=report_html(document, pdf_url="report.pdf", settings=settings, coach=True),
        coach_print=report_html(document, for_pdf=True, settings=settings, coach=True),
    )


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
