"""The messages raters and subjects receive, queued so that a failed send is retried.

Each function only queues the message in the current transaction: it goes out once that
commits (see feedback360.mailing.services), with its words from templates/mail/.
"""

from __future__ import annotations

from feedback360.accounts.models import Person
from feedback360.feedback.models import FeedbackRequest, Invitation
from feedback360.mailing.models import APPROVAL_REQUEST, INVITATION, REMINDER, REPORT_READY
from feedback360.mailing.services import queue_mail


def send_invitation(invitation: Invitation) -> None:
    """Invite a rater; their personal link is made again at each attempt, never kept."""
    queue_mail(INVITATION, invitation.email, invitation=invitation)


def send_reminder(invitation: Invitation) -> None:
    """Remind a rater, with the same personal link as their invitation."""
    queue_mail(REMINDER, invitation.email, invitation=invitation)


def send_report_ready(request: FeedbackRequest, reader: Person) -> None:
    """Tell the subject, or their coach, that the subject's report can be read."""
    queue_mail(REPORT_READY, reader.email, request=request, person=reader)


def send_approval_request(request: FeedbackRequest) -> None:
    """Ask the subject's line manager to approve the raters they have nominated."""
    manager = request.subject.line_manager
    if manager is None:
        return
    queue_mail(APPROVAL_REQUEST, manager.email, request=request, person=manager)
