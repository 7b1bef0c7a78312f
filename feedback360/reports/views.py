"""Reading and downloading a released personal report; each view and download is audited."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.permissions import can_view_report
from feedback360.reports.models import Report
from feedback360.reports.services import report_for
from feedback360.reports.serving import report_response
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


@bp.get("/<int:request_id>/")
@writes
@login_required
def show(request_id: int) -> Response:
    return report_response(_viewable_report(request_id), download=False, reader="read by them")


@bp.get("/<int:request_id>/report.pdf")
@writes
@login_required
def download(request_id: int) -> Response:
    return report_response(_viewable_report(request_id), download=True, reader="read by them")
