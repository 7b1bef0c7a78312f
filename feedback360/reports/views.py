"""Reading and downloading a released personal report."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.permissions import can_view_report
from feedback360.reports.models import Report
from feedback360.reports.services import report_for

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _viewable_report(request_id: int) -> Report:
    feedback_request = db.get_or_404(FeedbackRequest, request_id)
    if not can_view_report(current_user, feedback_request):
        abort(404)
    report = report_for(feedback_request)
    if report is None:
        abort(404, "This report has not been built yet.")
    return report


@bp.get("/<int:request_id>/")
@login_required
def show(request_id: int) -> Response:
    report = _viewable_report(request_id)
    return Response(report.html, mimetype="text/html")


@bp.get("/<int:request_id>/report.pdf")
@login_required
def download(request_id: int) -> Response:
    report = _viewable_report(request_id)
    return Response(
        report.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )
