"""What a subject may know of their request's progress (rule 7): totals, never who."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from feedback360.feedback.models import NOMINATED, FeedbackRequest
from feedback360.groups import LABELS, LINE_MANAGER, RATER_GROUPS


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


def request_progress(feedback_request: FeedbackRequest) -> RequestProgress:
    cycle = feedback_request.cycle
    k = cycle.anonymity_threshold
    nominated = Counter(invitation.group for invitation in feedback_request.invitations)
    responded = feedback_request.rater_responses_by_group()
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
    waiting = sum(
        1 for invitation in feedback_request.invitations if invitation.status == NOMINATED
    )
    responses = sum(responded.values())
    return RequestProgress(
        self_assessed=feedback_request.self_assessed,
        nominated=len(feedback_request.invitations),
        waiting_to_send=waiting,
        responses=responses,
        min_raters=cycle.min_raters,
        groups=groups,
    )
