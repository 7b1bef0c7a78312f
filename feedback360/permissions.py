"""Who may do what, as small named predicates that read like sentences."""

from __future__ import annotations

from feedback360.accounts.models import Person
from feedback360.cycles.models import RELEASED
from feedback360.feedback.models import FeedbackRequest


def owns_request(user: Person, request: FeedbackRequest) -> bool:
    return user.is_authenticated and request.subject_id == user.id


def can_view_report(user: Person, request: FeedbackRequest) -> bool:
    """The subject reads their own report once the cycle's reports are released."""
    return owns_request(user, request) and request.cycle.status == RELEASED
