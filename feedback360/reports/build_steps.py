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


def render_report(document: ReportDocument, settings: CycleSettings) -> tuple[str, bytes]:
    """The report's browser page and PDF; pure, so it can run in another process."""
    html = report_html(document, pdf_url="report.pdf", settings=settings)
    return html, report_pdf(document, settings=settings)


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
