"""Where a feedback request stands, and what its subject does next: worked out here only.

The staff member's "Next step" box, the line under each request on their home page and the
administrator's dashboard all read a RequestStage; the templates render it and decide
nothing. Every count comes from feedback.progress (rule 7: totals, never who).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from feedback360.accounts.models import Person
from feedback360.feedback.answers import Answers
from feedback360.feedback.approvals import approver_of, needs_approval
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.progress import RequestProgress, request_progress
from feedback360.feedback.rating_form import first_unfinished, progress_by_value
from feedback360.frameworks.snapshots import snapshot_of

JOURNEY = ("Self-assessment", "Raters", "Invitations", "Responses", "Report")
SELF_ASSESSMENT, RATERS, INVITATIONS, RESPONSES, REPORT = range(1, len(JOURNEY) + 1)

# The administrator's names for how far a request has got, in the order it moves.
NOMINATING = "Nominating raters"
AWAITING_APPROVAL = "Waiting for the line manager’s approval"
INVITATIONS_OUT = "Invitations out"
ENOUGH_RESPONSES = "Enough responses for a report"
REPORT_BUILT = "Report built"
REPORT_RELEASED = "Report released"
DASHBOARD_STAGES = (
    NOMINATING,
    AWAITING_APPROVAL,
    INVITATIONS_OUT,
    ENOUGH_RESPONSES,
    REPORT_BUILT,
    REPORT_RELEASED,
)


@dataclass(frozen=True)
class RequestStage:
    progress: RequestProgress  # the counts the subject may see
    dashboard: str  # the administrator's name for the stage, from DASHBOARD_STAGES
    step: int  # where the subject is on JOURNEY, from 1
    next_step: str  # the sentence after "Next:"
    action: str  # the button that does it
    endpoint: str  # where the button goes
    fragment: str = ""  # the part of that page, for the request page's own sections
    url_args: dict[str, int] = field(default_factory=dict)
    all_groups_shown: bool = False  # every nominated group has enough responses to be shown
    # Steps already done, the current one aside: raters may be chosen and invited before
    # the self-assessment is finished, and the journey must not call them "to come".
    done: frozenset[int] = frozenset()

    def is_done(self, step: int) -> bool:
        return step != self.step and step in self.done


def request_stage(feedback_request: FeedbackRequest, *, report_built: bool = False) -> RequestStage:
    """The request's stage, as its subject and its administrator see it."""
    cycle, state = feedback_request.cycle, request_progress(feedback_request)
    here = {"request_id": feedback_request.id}

    def stage(
        step: int,
        sentence: str,
        action: str,
        endpoint: str = "feedback.request_page",
        fragment: str = "",
        url_args: dict[str, int] = here,
        all_groups_shown: bool = False,
    ) -> RequestStage:
        dashboard = _dashboard(feedback_request, state, report_built)
        return RequestStage(
            state,
            dashboard,
            step,
            sentence,
            action,
            endpoint,
            fragment,
            url_args,
            all_groups_shown,
            _steps_done(feedback_request, state),
        )

    if cycle.is_released:
        return stage(REPORT, "Your report is ready to read.", "Read your report", "reports.show")
    if not cycle.is_open:
        return stage(
            RESPONSES,
            "The cycle has closed. Your report will be ready once it is released.",
            "See your responses",
            fragment="#responses-heading",
        )
    if not state.self_assessed:
        return _self_assessment_stage(feedback_request, stage)
    approval = needs_approval(feedback_request)
    if state.nominated < cycle.min_raters:
        then = ", then ask for approval" if approval else ""
        return stage(
            RATERS,
            f"Nominate at least {cycle.min_raters} raters{then}.",
            "Add raters",
            fragment="#add-rater",
        )
    manager = approver_of(feedback_request)
    if feedback_request.awaits_approval:
        return stage(
            INVITATIONS,
            _waiting_for(feedback_request, manager),
            "See your list of raters",
            fragment="#raters-heading",
        )
    if state.waiting_to_send and approval:
        whom = "your line manager" if manager else "an administrator"
        return stage(
            INVITATIONS,
            f"Ask {whom} to approve your list; the invitations go out once it is approved.",
            "Ask for approval",
            fragment="#ask-for-approval",
        )
    if state.waiting_to_send:
        return stage(
            INVITATIONS,
            "Send the invitations to the raters you have nominated.",
            "Send the invitations",
            fragment="#send-invitations",
        )
    everyone_shown = bool(state.groups) and all(group.enough for group in state.groups)
    return stage(
        RESPONSES,
        f"Wait for your raters to respond ({state.responses} so far).",
        "See how your responses stand",
        fragment="#responses-heading",
        all_groups_shown=everyone_shown and state.responses >= cycle.anonymity_threshold,
    )


def _steps_done(feedback_request: FeedbackRequest, state: RequestProgress) -> frozenset[int]:
    """The steps finished whatever the order they were done in."""
    enough = state.nominated >= feedback_request.cycle.min_raters
    invited = enough and not state.waiting_to_send and not feedback_request.awaits_approval
    done = {
        SELF_ASSESSMENT: state.self_assessed,
        RATERS: enough,
        INVITATIONS: invited,
        RESPONSES: not feedback_request.cycle.is_open,
    }
    return frozenset(step for step, finished in done.items() if finished)


def _self_assessment_stage(feedback_request: FeedbackRequest, stage: Any) -> RequestStage:
    """Start, or carry on where the draft stops, saying how far it has got."""
    framework = snapshot_of(feedback_request.cycle.framework)
    progress = progress_by_value(framework, Answers.from_draft(feedback_request.self_draft))
    answered = sum(row.answered for row in progress)
    if not feedback_request.self_draft:
        sentence, action = "Complete your self-assessment.", "Start your self-assessment"
    else:
        sentence = (
            "Complete your self-assessment "
            f"({answered} of {len(framework.statements)} statements answered)."
        )
        action = "Continue your self-assessment"
    number = first_unfinished(progress)
    if number is None:  # every statement answered: what is left is to check and submit
        return stage(SELF_ASSESSMENT, sentence, action, "feedback.self_summary")
    url_args = {"request_id": feedback_request.id, "number": number}
    return stage(SELF_ASSESSMENT, sentence, action, "feedback.self_value_page", url_args=url_args)


def _waiting_for(feedback_request: FeedbackRequest, manager: Person | None) -> str:
    if manager is not None:
        return (
            f"Your list is with {manager.name} for approval. "
            "The invitations go out once they approve it."
        )
    why = (
        "your list names a line manager who is not the one on record"
        if feedback_request.subject.line_manager
        else "you have no line manager on record"
    )
    return (
        f"Ask an administrator to approve your list ({why}). The invitations go out once it "
        "is approved."
    )


def _dashboard(
    feedback_request: FeedbackRequest, state: RequestProgress, report_built: bool
) -> str:
    if report_built:
        return REPORT_RELEASED if feedback_request.cycle.is_released else REPORT_BUILT
    if state.responses >= feedback_request.cycle.anonymity_threshold:
        return ENOUGH_RESPONSES
    if any(invitation.is_sent for invitation in feedback_request.invitations):
        return INVITATIONS_OUT
    if feedback_request.awaits_approval:
        return AWAITING_APPROVAL
    return NOMINATING
