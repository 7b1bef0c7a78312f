"""The staff member's pages: requests, self-assessment, nominations and progress."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.actions import Outcome, commit_or_refuse, run_action, run_form_action
from feedback360.cycles.models import OPEN, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import approvals, services, value_pages
from feedback360.feedback.forms import NominationForm, SuggestionForm, group_label
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.permissions import invitation_or_404, owns_request
from feedback360.feedback.stage import request_stage
from feedback360.feedback.suggestions import suggested_raters
from feedback360.forms import kept_when_expired
from feedback360.frameworks.snapshots import snapshot_of
from feedback360.wording import counted

bp = Blueprint("feedback", __name__)


def _own_request(request_id: int) -> FeedbackRequest:
    # A post locks the request until its commit: saves arriving together build on each other.
    locked = request.method == "POST"
    feedback_request = db.get_or_404(FeedbackRequest, request_id, with_for_update=locked)
    if not owns_request(current_user, feedback_request):
        abort(404)
    return feedback_request


@bp.get("/")
@login_required
def home() -> str:
    requests = (
        db.session.execute(
            db.select(FeedbackRequest)
            .filter_by(subject_id=current_user.id)
            .order_by(FeedbackRequest.created_at.desc())
        )
        .scalars()
        .all()
    )
    asked = {r.cycle_id for r in requests}
    open_cycles = db.session.execute(db.select(Cycle).filter_by(status=OPEN)).scalars().all()
    not_asked = [c for c in open_cycles if c.id not in asked]
    # The Next step box follows the latest request in an open cycle; failing that, a cycle
    # not asked in yet (its own card is the box); failing that, the latest request.
    in_open_cycle = next((r for r in requests if r.cycle.is_open), None)
    return render_template(
        "feedback/home.html",
        requests=requests,
        boxed=in_open_cycle or (None if not_asked else next(iter(requests), None)),
        open_cycles=not_asked,
        stage=request_stage,
        waiting=approvals.waiting_for(current_user),
    )


@bp.post("/cycles/<int:cycle_id>/request")
@login_required
def start_request(cycle_id: int) -> WerkzeugResponse:
    cycle = db.get_or_404(Cycle, cycle_id)
    started = commit_or_refuse(partial(services.start_request, cycle, current_user))
    if isinstance(started, DomainError):
        flash(started.message, "error")
        return redirect(url_for("feedback.home"))
    return redirect(url_for("feedback.request_page", request_id=started.outcome.id))


@bp.get("/requests/<int:request_id>")
@login_required
def request_page(request_id: int) -> str:
    feedback_request = _own_request(request_id)
    return _render_request(feedback_request)


def _render_request(
    feedback_request: FeedbackRequest,
    form: NominationForm | None = None,
    suggestion_form: SuggestionForm | None = None,
) -> str:
    """The request page; a form just posted is shown as sent, the other one fresh."""
    groups = services.offered_groups(feedback_request.cycle)
    suggestions = suggested_raters(feedback_request, groups)
    return render_template(
        "feedback/request.html",
        feedback_request=feedback_request,
        form=form or NominationForm.for_groups(groups, formdata=None),
        suggestion_form=suggestion_form or SuggestionForm.build(suggestions, groups, formdata=None),
        stage=(stage := request_stage(feedback_request)),
        progress=stage.progress,
        approver=approvals.approver_of(feedback_request),
        needs_approval=approvals.needs_approval(feedback_request),
        group_label=group_label,
    )


@bp.route("/requests/<int:request_id>/self", methods=["GET", "POST"])
@kept_when_expired
@login_required
def self_assessment(request_id: int) -> ResponseReturnValue:
    feedback_request = _own_request(request_id)

    def after(submitted: bool) -> WerkzeugResponse:
        flash("Self-assessment submitted." if submitted else "Your answers are saved.")
        back = url_for("feedback.request_page", request_id=request_id)
        return redirect(back if submitted else request.url)

    return value_pages.whole_form_page(
        snapshot_of(feedback_request.cycle.framework),
        feedback_request.self_draft,
        partial(services.save_self_draft, feedback_request),
        partial(services.submit_self_assessment, feedback_request),
        after,
        about_self=True,
        subject=feedback_request.subject,
        done=feedback_request.self_assessed,
        links=_self_links(request_id),
    )


def _self_links(request_id: int) -> dict[str, object]:
    """Where the self-assessment's value pages, summary and whole form live."""
    return {
        "value_url": lambda number: url_for(
            "feedback.self_value_page", request_id=request_id, number=number
        ),
        "summary_url": url_for("feedback.self_summary", request_id=request_id),
        "all_url": url_for("feedback.self_assessment", request_id=request_id),
        "back_url": url_for("feedback.request_page", request_id=request_id),
    }


def _self_to_answer(request_id: int) -> FeedbackRequest:
    """The subject's own request, while the self-assessment is still to be submitted."""
    feedback_request = _own_request(request_id)
    if feedback_request.self_assessed:
        abort(redirect(url_for("feedback.self_assessment", request_id=request_id)))
    return feedback_request


@bp.route("/requests/<int:request_id>/self/values/<int:number>", methods=["GET", "POST"])
@kept_when_expired
@login_required
def self_value_page(request_id: int, number: int) -> ResponseReturnValue:
    feedback_request = _self_to_answer(request_id)
    return value_pages.value_page(
        snapshot_of(feedback_request.cycle.framework),
        number,
        feedback_request.self_draft,
        partial(services.save_self_draft, feedback_request),
        about_self=True,
        subject=feedback_request.subject,
        links=_self_links(request_id),
    )


@bp.route("/requests/<int:request_id>/self/summary", methods=["GET", "POST"])
@kept_when_expired
@login_required
def self_summary(request_id: int) -> ResponseReturnValue:
    feedback_request = _self_to_answer(request_id)

    def done() -> ResponseReturnValue:
        flash("Self-assessment submitted.")
        return redirect(url_for("feedback.request_page", request_id=request_id))

    return value_pages.summary_page(
        snapshot_of(feedback_request.cycle.framework),
        feedback_request.self_draft,
        partial(services.submit_self_assessment, feedback_request),
        done,
        about_self=True,
        subject=feedback_request.subject,
        links=_self_links(request_id),
    )


@bp.post("/requests/<int:request_id>/nominations")
@login_required
def nominate(request_id: int) -> str | WerkzeugResponse:
    feedback_request = _own_request(request_id)
    form = NominationForm.for_groups(services.offered_groups(feedback_request.cycle))
    if form.validate_on_submit():
        nominate = partial(services.nominate, feedback_request, *form.rater())
        if run_form_action(
            form, nominate, lambda added: f"{added.name} added to your list.", near=RATERS
        ):
            return redirect(_raters_part(request_id))
    return _render_request(feedback_request, form=form), 400


@bp.post("/requests/<int:request_id>/nominations/suggested")
@login_required
def nominate_suggested(request_id: int) -> str | WerkzeugResponse:
    feedback_request = _own_request(request_id)
    groups = services.offered_groups(feedback_request.cycle)
    form = SuggestionForm.build(suggested_raters(feedback_request, groups), groups)
    if form.validate_on_submit() and run_form_action(
        form,
        lambda: services.nominate_people(feedback_request, form.chosen()),
        lambda added: f"{added} {'person' if added == 1 else 'people'} added to your list.",
        near=RATERS,
    ):
        return redirect(_raters_part(request_id))
    return _render_request(feedback_request, suggestion_form=form), 400


@bp.post("/requests/<int:request_id>/nominations/<int:invitation_id>/remove")
@login_required
def remove_nomination(request_id: int, invitation_id: int) -> WerkzeugResponse:
    feedback_request = _own_request(request_id)
    invitation = invitation_or_404(feedback_request, invitation_id)
    run_action(
        partial(services.remove_nomination, invitation),
        f"{invitation.name} removed from your list.",
        near=RATERS,
    )
    return redirect(_raters_part(request_id))


@bp.post("/requests/<int:request_id>/invitations")
@login_required
def send_invitations(request_id: int) -> WerkzeugResponse:
    return _on_own_request(
        request_id,
        services.send_own_invitations,
        lambda sent: f"{counted(sent, 'invitation')} sent.",
    )


@bp.post("/requests/<int:request_id>/approval")
@login_required
def ask_for_approval(request_id: int) -> WerkzeugResponse:
    return _on_own_request(
        request_id, approvals.ask_for_approval, "Your list has been sent for approval."
    )


def _on_own_request(
    request_id: int,
    action: Callable[[FeedbackRequest], Outcome],
    message: str | Callable[[Outcome], str],
) -> WerkzeugResponse:
    """Do the action to the user's own list of raters, say how it went there, and show it."""
    run_action(partial(action, _own_request(request_id)), message, near=RATERS)
    return redirect(_raters_part(request_id))


# The list of raters' part of the request page: its actions return there, not to the top.
RATERS = "raters"


def _raters_part(request_id: int) -> str:
    return url_for("feedback.request_page", request_id=request_id, _anchor="raters-heading")
