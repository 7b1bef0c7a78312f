"""Who may see a feedback request and its report, as small predicates that read like sentences.

The roles (administrator, coach) are checked by the decorators in feedback360.permissions.
"""

from __future__ import annotations

from flask import abort

from feedback360.accounts.models import Person
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest, Invitation


def owns_request(user: Person, feedback_request: FeedbackRequest) -> bool:
    return user.is_authenticated and feedback_request.subject_id == user.id


def can_view_report(user: Person, feedback_request: FeedbackRequest) -> bool:
    """The subject reads their own report once the cycle's reports are released."""
    return owns_request(user, feedback_request) and feedback_request.cycle.is_released


def coaches(user: Person, feedback_request: FeedbackRequest) -> bool:
    """The user is the request's subject's assigned coach."""
    return user.is_authenticated and user.is_coach and feedback_request.subject.coach_id == user.id


def invitation_or_404(feedback_request: FeedbackRequest, invitation_id: int) -> Invitation:
    """The request's own invitation: another request's gets the same 404 as none at all."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.request_id != feedback_request.id:
        abort(404)
    return invitation
