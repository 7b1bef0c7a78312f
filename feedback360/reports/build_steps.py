"""What every way of building reports shares: render one report, and say how it came out."""

from __future__ import annotations

from dataclasses import dataclass

from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.results import ReportDocument
from feedback360.reports.models import Report
from feedback360.reports.render import pdf_of_page, report_editions


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
    editions = report_editions(document, settings, pdf_url="report.pdf")
    return Rendered(
        html=editions.html,
        pdf=pdf_of_page(editions.print_page),
        coach_html=editions.coach_html,
        coach_print=editions.coach_print,
    )


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
