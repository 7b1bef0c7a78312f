"""The messages raters and line managers receive, queued so that a failed send is retried.

Each send function only queues the message in the current transaction: it goes out once
that commits (see feedback360.mailing.services). Its words are made when it goes out, by
the composer registered below, from templates/mail/.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from feedback360.feedback.links import rater_link
from feedback360.feedback.models import FeedbackRequest, Invitation
from feedback360.groups import LINE_MANAGER
from feedback360.mailing.messages import Message, NotNeeded, base_url, composes, render_mail
from feedback360.mailing.models import APPROVAL_REQUEST, INVITATION, REMINDER, QueuedMail
from feedback360.mailing.services import queue_mail, queue_mails
from feedback360.timeutil import long_date


def send_invitations(invitations: Sequence[Invitation]) -> None:
    """Invite raters; each personal link is made again at each attempt, never kept."""
    queue_mails(
        [
            {
                "kind": INVITATION,
                "to_address": invitation.email,
                "invitation_id": invitation.id,
                "request_id": invitation.request_id,
            }
            for invitation in invitations
        ]
    )


def send_reminder(invitation: Invitation) -> None:
    """Remind a rater, with the same personal link as their invitation."""
    queue_mail(REMINDER, invitation.email, invitation=invitation)


def send_approval_request(feedback_request: FeedbackRequest) -> None:
    """Ask the subject's line manager to approve the raters they have nominated."""
    manager = feedback_request.subject.line_manager
    if manager is None:
        return
    queue_mail(APPROVAL_REQUEST, manager.email, request=feedback_request, person=manager)


@composes(INVITATION)
def _invitation(mail: QueuedMail) -> Message:
    invitation = _open_invitation(mail)
    cycle = invitation.request.cycle
    manager_shown = invitation.group == LINE_MANAGER and cycle.manager_identifiable
    return _to_rater("invitation", "{} asks for your feedback", invitation, manager_shown)


@composes(REMINDER)
def _reminder(mail: QueuedMail) -> Message:
    return _to_rater("reminder", "Reminder: {} asks for your feedback", _open_invitation(mail))


def _to_rater(
    template: str, subject_line: str, invitation: Invitation, manager_shown: bool = False
) -> Message:
    """A message with the rater's personal link, made again at each attempt."""
    feedback_request = invitation.request
    cycle = feedback_request.cycle
    return render_mail(
        template,
        subject_line.format(feedback_request.subject.name),
        link=rater_link(invitation),
        rater_first_name=_first_name(invitation.name),
        subject=feedback_request.subject,
        cycle=cycle,
        closes_on=_date(cycle.closes_on),
        manager_shown=manager_shown,
    )


@composes(APPROVAL_REQUEST)
def _approval_request(mail: QueuedMail) -> Message:
    feedback_request, manager = mail.request, mail.person
    if feedback_request is None or manager is None:
        raise NotNeeded("the request or the line manager no longer exists")
    if feedback_request.is_approved:
        raise NotNeeded("the raters have been approved already")
    return render_mail(
        "approval_request",
        f"Please approve {feedback_request.subject.name}'s raters",
        link=f"{base_url()}/approvals/{feedback_request.id}",
        manager=manager,
        subject=feedback_request.subject,
    )


def _open_invitation(mail: QueuedMail) -> Invitation:
    invitation = mail.invitation
    if invitation is None:
        raise NotNeeded("the invitation no longer exists")
    if invitation.is_finished:
        raise NotNeeded("the rater has already answered or declined")
    if not invitation.request.cycle.is_open:
        raise NotNeeded("the cycle is no longer open")
    return invitation


def _first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def _date(day: date | None) -> str | None:
    return long_date(day) if day else None
