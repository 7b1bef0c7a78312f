"""Handing over a built report, as a page or a PDF: always audited first.

Every reading is recorded and committed before the report leaves the server. The entry
names the request, not the person: the actor is recorded already, and an erasure then
leaves no name behind in the log.
"""

from __future__ import annotations

from flask import Response
from markupsafe import escape

from feedback360.audit.services import record
from feedback360.extensions import db
from feedback360.reports.coach_edition import coach_page, coach_pdf, coach_pdf_filename
from feedback360.reports.models import Report
from feedback360.reports.rendering import ensure_rendered

VIEW, DOWNLOAD = "report.view", "report.download"


BACK_LINK = '<a href="../../" class="back">Back to your feedback</a>'


def report_response(
    report: Report,
    *,
    download: bool,
    reader: str,
    back_to: str | None = None,
    coach: bool = False,
) -> Response:
    """The report's page, or its PDF as a download named after its subject; with coach, the
    coach's edition. The page's link back (written for its subject) names `back_to` instead
    when someone else reads it, who is told whom the report's "you" means."""
    ensure_rendered(report)  # a reader who comes before the build's workers
    # Read before the commit expires the report.
    if coach:
        body = coach_pdf(report) if download else coach_page(report)
        filename = coach_pdf_filename(report)
    else:
        body = report.pdf if download else report.html
        filename = report.filename
    if back_to and not download:
        subject = escape(report.request.subject.first_name)
        body = body.replace(
            BACK_LINK,
            f'<a href="../../" class="back">Back to {escape(back_to)}</a></p>'
            f'<p class="download">This report is written to {subject}: “you” in it means'
            f" {subject}, and “your raters” {subject}’s raters.",
        )
    request_id = report.request_id
    record(DOWNLOAD if download else VIEW, f"report {report.id}", f"request {request_id}, {reader}")
    db.session.commit()
    if not download:
        return Response(body, mimetype="text/html")
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
