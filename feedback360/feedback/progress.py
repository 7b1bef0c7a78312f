"""What a subject may know of their request's progress (rule 7): totals, never who."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from feedback360.disclosure import NOT_SHOWN, OWN, POOLED_IN, POOLED_IN_ALL, how_groups_show
from feedback360.feedback.models import NOMINATED, FeedbackRequest
from feedback360.groups import ALL_RATERS, LABELS, OTHER_RATERS, RATER_GROUPS


@dataclass(frozen=True)
class GroupProgress:
    label: str
    nominated: int
    # How the report shows the group with the responses so far, by the report's own rules
    # (feedback360.disclosure): on its own, only within "Other raters" (or "All raters" when
    # every group is pooled), or not at all.
    showing: str

    @property
    def enough(self) -> bool:
        return self.showing == OWN

    @property
    def pooled(self) -> bool:
        return self.showing in (POOLED_IN, POOLED_IN_ALL)

    @property
    def pool(self) -> str:
        """The column a pooled group is shown within."""
        return LABELS[ALL_RATERS if self.showing == POOLED_IN_ALL else OTHER_RATERS]


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
    nominated = Counter(invitation.group for invitation in feedback_request.invitations)
    responded = feedback_request.rater_responses_by_group()
    showing = how_groups_show(responded, cycle.anonymity_threshold, cycle.manager_identifiable)
    groups = [
        GroupProgress(LABELS[group], nominated[group], showing.get(group, NOT_SHOWN))
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
