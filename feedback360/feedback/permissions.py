"""Who may see a feedback request and its report, as small predicates that read like sentences.

The roles (administrator, coach) are checked by the decorators in feedback360.permissions.
"""

from __future__ import annotations

from feedback360.accounts.models import Person
from feedback360.feedback.models import FeedbackRequest


def owns_request(user: Person, request: FeedbackRequest) -> bool:
    return user.is_authenticated and request.subject_id == user.id


def can_view_report(user: Person, request: FeedbackRequest) -> bool:
    """The subject reads their own report once the cycle's reports are released."""
    return owns_request(user, request) and request.cycle.is_released


def coaches(user: Person, request: FeedbackRequest) -> bool:
    """The user is the request's subject's assigned coach."""
    return user.is_authenticated and user.is_coach and request.subject.coach_id == user.id
