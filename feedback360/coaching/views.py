"""A coach's pages: their coachees, released reports and debriefs."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.actions import run_form_action
from feedback360.coaching import services
from feedback360.coaching.forms import DebriefForm
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.permissions import coaches
from feedback360.permissions import coach_required
from feedback360.reports.models import Report
from feedback360.reports.services import report_for
from feedback360.reports.serving import report_response
from feedback360.sqlite import writes
from feedback360.timeutil import today

bp = Blueprint("coaching", __name__, url_prefix="/coach")


def _coachees_request(request_id: int) -> FeedbackRequest:
    """Another coach's coachee gets the same 404 as a request that does not exist."""
    feedback_request = db.get_or_404(FeedbackRequest, request_id)
    if not coaches(current_user, feedback_request):
        abort(404)
    return feedback_request


def _released_report(feedback_request: FeedbackRequest) -> Report | None:
    if not services.released_to_coaches(feedback_request.cycle):
        return None
    return report_for(feedback_request)


def _not_released(feedback_request: FeedbackRequest) -> tuple[str, int]:
    page = render_template("coaching/not_released.html", feedback_request=feedback_request)
    return page, 403


def _coachees_report(request_id: int, *, download: bool) -> Response | tuple[str, int]:
    feedback_request = _coachees_request(request_id)
    report = _released_report(feedback_request)
    if report is None:
        return _not_released(feedback_request)
    return report_response(
        report,
        download=download,
        reader="read by their coach",
        back_to="your coachees",
        coach=True,
    )


@bp.get("/")
@coach_required
def index() -> str:
    return render_template("coaching/index.html", coachees=services.coachees(current_user))


@bp.get("/reports/<int:request_id>/")
@writes
@coach_required
def show(request_id: int) -> Response | tuple[str, int]:
    return _coachees_report(request_id, download=False)


@bp.get("/reports/<int:request_id>/report.pdf")
@writes
@coach_required
def download(request_id: int) -> Response | tuple[str, int]:
    return _coachees_report(request_id, download=True)


@bp.route("/reports/<int:request_id>/debrief", methods=["GET", "POST"])
@coach_required
def debrief(request_id: int) -> str | tuple[str, int] | WerkzeugResponse:
    feedback_request = _coachees_request(request_id)
    if _released_report(feedback_request) is None:
        return _not_released(feedback_request)
    form = DebriefForm(obj=services.own_debrief(current_user, feedback_request))
    if form.validate_on_submit():
        record = partial(
            services.record_debrief,
            current_user,
            feedback_request,
            form.held_on.data,
            form.private_note.data or "",
            today=today(),
        )
        if run_form_action(form, record, f"Debrief with {feedback_request.subject.name} recorded."):
            return redirect(url_for("coaching.index"))
    page = render_template("coaching/debrief.html", form=form, feedback_request=feedback_request)
    return (page, 400) if form.errors else page
