"""The line manager's pages: lists of raters waiting for approval, changing and approving one."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.actions import run_action, run_form_action
from feedback360.extensions import db
from feedback360.feedback import approvals, services
from feedback360.feedback.forms import NominationForm, group_label
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.permissions import invitation_or_404
from feedback360.wording import counted

bp = Blueprint("approvals", __name__, url_prefix="/approvals")


def _request_to_approve(request_id: int) -> FeedbackRequest:
    # Anyone but the approver gets "not found": the page must not confirm the request exists.
    feedback_request = db.get_or_404(FeedbackRequest, request_id)
    if not approvals.may_approve(current_user, feedback_request):
        abort(404)
    return feedback_request


@bp.get("/")
@login_required
def index() -> str:
    return render_template("approvals/index.html", waiting=approvals.waiting_for(current_user))


@bp.get("/<int:request_id>")
@login_required
def show(request_id: int) -> str:
    return _render(_request_to_approve(request_id))


def _nomination_form(feedback_request: FeedbackRequest, **kwargs: Any) -> NominationForm:
    groups = services.offered_groups(feedback_request.cycle)
    name = feedback_request.subject.first_name
    return NominationForm.for_groups(groups, subject_name=name, **kwargs)


def _render(feedback_request: FeedbackRequest, form: NominationForm | None = None) -> str:
    return render_template(
        "approvals/request.html",
        feedback_request=feedback_request,
        form=form or _nomination_form(feedback_request, formdata=None),
        approver=approvals.approver_of(feedback_request),
        pending=feedback_request.awaits_approval,
        group_label=group_label,
    )


@bp.post("/<int:request_id>/raters")
@login_required
def add_rater(request_id: int) -> str | WerkzeugResponse:
    feedback_request = _request_to_approve(request_id)
    form = _nomination_form(feedback_request)
    if form.validate_on_submit():
        add = partial(approvals.add_rater, feedback_request, *form.rater(), current_user)
        if run_form_action(form, add, lambda added: f"{added.name} added to the list."):
            return redirect(url_for("approvals.show", request_id=request_id))
    return _render(feedback_request, form), 400


@bp.post("/<int:request_id>/raters/<int:invitation_id>/remove")
@login_required
def remove_rater(request_id: int, invitation_id: int) -> WerkzeugResponse:
    feedback_request = _request_to_approve(request_id)
    invitation = invitation_or_404(feedback_request, invitation_id)
    run_action(
        partial(approvals.remove_rater, invitation), f"{invitation.name} removed from the list."
    )
    return redirect(url_for("approvals.show", request_id=request_id))


@bp.post("/<int:request_id>/approve")
@login_required
def approve(request_id: int) -> WerkzeugResponse:
    feedback_request = _request_to_approve(request_id)
    run_action(
        partial(approvals.approve, feedback_request, current_user._get_current_object()),
        lambda sent: f"List approved: {counted(sent, 'invitation')} sent.",
    )
    return redirect(url_for("approvals.show", request_id=request_id))
