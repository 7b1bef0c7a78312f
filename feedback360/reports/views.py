"""Reading and downloading a released personal report; each view and download is audited."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from feedback360.audit.services import record
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.permissions import can_view_report
from feedback360.reports.models import Report
from feedback360.reports.services import report_for
from feedback360.sqlite import writes

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _viewable_report(request_id: int) -> Report:
    feedback_request = db.get_or_404(FeedbackRequest, request_id)
    if not can_view_report(current_user, feedback_request):
        abort(404)
    report = report_for(feedback_request)
    if report is None:
        abort(404, "This report has not been built yet.")
    return report


def _audit(action: str, report: Report) -> None:
    """Record who opened whose report, committed before the report leaves the server."""
    feedback_request = report.request
    record(
        action,
        f"report {report.id}",
        f"{feedback_request.subject.name}’s report, {feedback_request.cycle.name}",
    )
    db.session.commit()


@bp.get("/<int:request_id>/")
@writes
@login_required
def show(request_id: int) -> Response:
    report = _viewable_report(request_id)
    html = report.html  # read before the commit expires it
    _audit("report.view", report)
    return Response(html, mimetype="text/html")


@bp.get("/<int:request_id>/report.pdf")
@writes
@login_required
def download(request_id: int) -> Response:
    report = _viewable_report(request_id)
    pdf, filename = report.pdf, report.filename  # read before the commit expires them
    _audit("report.download", report)
    return pdf_attachment(pdf, filename)


def pdf_attachment(pdf: bytes, filename: str) -> Response:
    """A report's PDF as a download named after its subject."""
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
