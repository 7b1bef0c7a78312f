"""What a subject may know of their request's progress (rule 7): totals, never who."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from feedback360.cycles.models import RELEASED
from feedback360.feedback.models import NOMINATED, FeedbackRequest
from feedback360.reports.results import LABELS, LINE_MANAGER, RATER_GROUPS


@dataclass(frozen=True)
class GroupProgress:
    label: str
    nominated: int
    enough: bool


@dataclass(frozen=True)
class RequestProgress:
    self_assessed: bool
    nominated: int
    waiting_to_send: int
    responses: int
    min_raters: int
    groups: list[GroupProgress]
    next_step: str


def request_progress(request: FeedbackRequest) -> RequestProgress:
    cycle = request.cycle
    k = cycle.anonymity_threshold
    nominated = Counter(invitation.group for invitation in request.invitations)
    responded = request.rater_responses_by_group()
    groups = [
        GroupProgress(
            label=LABELS[group],
            nominated=nominated[group],
            enough=responded[group]
            >= (1 if group == LINE_MANAGER and cycle.manager_identifiable else k),
        )
        for group in RATER_GROUPS
        if nominated[group]
    ]
    waiting = sum(1 for invitation in request.invitations if invitation.status == NOMINATED)
    responses = sum(responded.values())
    return RequestProgress(
        self_assessed=request.self_assessed,
        nominated=len(request.invitations),
        waiting_to_send=waiting,
        responses=responses,
        min_raters=cycle.min_raters,
        groups=groups,
        next_step=_next_step(request, waiting, responses),
    )


def _next_step(request: FeedbackRequest, waiting: int, responses: int) -> str:
    cycle = request.cycle
    if cycle.status == RELEASED:
        return "Your report is ready to read."
    if not cycle.is_open:
        return "The cycle has closed. Your report will be ready once it is released."
    if not request.self_assessed:
        return "Complete your self-assessment."
    if len(request.invitations) < cycle.min_raters:
        return f"Nominate at least {cycle.min_raters} raters."
    if waiting:
        return "Send the invitations to the raters you have nominated."
    return f"Wait for your raters to respond ({responses} so far)."
