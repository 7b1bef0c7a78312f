"""A line manager approves a staff member's raters before the invitations go out.

Where the cycle asks for it (`Cycle.manager_approves`), and wherever the list holds a rater
who needs approval (rule 10): an address outside the staff list, which the line manager
approves, or a line manager other than the recorded one, which only an administrator
approves. The subject's list is locked while it waits; the approver may remove or add raters
by the subject's rules, then approve, which sends the invitations. With no active line
manager on record an administrator acts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, update

from feedback360.accounts.models import Person
from feedback360.audit.services import record
from feedback360.cycles.models import OPEN, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import mails, services
from feedback360.feedback.models import (
    APPROVAL_PENDING,
    APPROVED,
    NOMINATED,
    OTHER_MANAGER,
    FeedbackRequest,
    Invitation,
)
from feedback360.wording import counted


@dataclass(frozen=True)
class Waiting:
    """A list waiting for the user's approval; on_behalf: the subject has no line manager."""

    request: FeedbackRequest
    on_behalf: bool


def needs_approval(feedback_request: FeedbackRequest) -> bool:
    """The list goes to an approver before the invitations go out."""
    return feedback_request.cycle.manager_approves or any(
        i.awaits_approval for i in feedback_request.invitations
    )


def approver_of(feedback_request: FeedbackRequest) -> Person | None:
    """The subject's active line manager on record; None means an administrator approves
    (there is none, or the list names another line manager)."""
    if any(
        i.awaits_approval and i.approval_needed == OTHER_MANAGER
        for i in feedback_request.invitations
    ):
        return None
    manager = feedback_request.subject.line_manager
    return manager if manager is not None and manager.active else None


def may_approve(user: Person, feedback_request: FeedbackRequest) -> bool:
    """The subject's line manager; an administrator where they are the approver.

    Only once the subject has asked: a list being drawn up, or one that needs no approval,
    stays between the subject and their raters.
    """
    if not user.is_authenticated or user.id == feedback_request.subject_id:
        return False
    if not needs_approval(feedback_request) or feedback_request.approval is None:
        return False
    manager = approver_of(feedback_request)
    return user.id == manager.id if manager is not None else bool(user.is_admin)


def ask_for_approval(feedback_request: FeedbackRequest) -> None:
    """The subject sends their list to their line manager, once it reaches the minimum."""
    cycle = feedback_request.cycle
    if not cycle.is_open:
        raise DomainError(f"“{cycle.name}” is not open, so nothing can be sent now.")
    if not needs_approval(feedback_request):
        raise DomainError("Your list needs no approval: send the invitations yourself.")
    if feedback_request.awaits_approval:
        raise DomainError("Your list is already waiting for approval.")
    if len(feedback_request.invitations) < cycle.min_raters:
        raise DomainError(
            f"Nominate at least {cycle.min_raters} raters before asking for approval; "
            f"you have {len(feedback_request.invitations)}."
        )
    if not any(invitation.status == NOMINATED for invitation in feedback_request.invitations):
        raise DomainError("Everyone on your list has been invited: there is nothing to approve.")
    _move(feedback_request, APPROVAL_PENDING, current=None)
    if approver_of(feedback_request) is not None:
        mails.send_approval_request(feedback_request)


def add_rater(
    feedback_request: FeedbackRequest, name: str, email: str, group: str, approver: Person
) -> Invitation:
    """The approver adds a rater to a list waiting for them, by the subject's rules."""
    _require_pending(feedback_request)
    invitation = services.add_rater(feedback_request, name, email, group, by=approver)
    record("nominations.add", f"request {feedback_request.id}", f"{invitation.name} ({group})")
    return invitation


def remove_rater(invitation: Invitation) -> None:
    """The approver takes a rater who has not been invited yet off a list waiting for them."""
    feedback_request, name = invitation.request, invitation.name
    _require_pending(feedback_request)
    services.drop_rater(invitation)
    record("nominations.remove", f"request {feedback_request.id}", name)


def approve(feedback_request: FeedbackRequest, approver: Person) -> int:
    """Approve the list: the waiting raters are invited. Returns how many."""
    _require_pending(feedback_request)
    cycle = feedback_request.cycle
    if len(feedback_request.invitations) < cycle.min_raters:
        raise DomainError(
            f"The list needs at least {cycle.min_raters} raters before it can be approved; "
            f"it has {len(feedback_request.invitations)}. Add a rater first."
        )
    waiting = [i for i in feedback_request.invitations if i.awaits_approval]
    for invitation in waiting:
        if not services.may_approve_rater(
            approver, feedback_request, invitation.approval_needed or ""
        ):
            raise DomainError(
                f"{invitation.name} can be approved only by an administrator: they are "
                f"named as {feedback_request.subject.first_name}'s line manager but are not "
                "the one on record."
            )
    # The request's row before its invitations', as the close takes them (see closing).
    _move(feedback_request, APPROVED, current=APPROVAL_PENDING)
    for invitation in waiting:
        invitation.approved_by_id = approver.id
    sent = services.send_invitations(feedback_request)
    on_behalf = (
        "" if approver_of(feedback_request) else " on behalf of the line manager (none on record)"
    )
    record(
        "nominations.approve",
        f"request {feedback_request.id}",
        f"{feedback_request.subject.name}'s raters approved{on_behalf}; "
        f"{counted(sent, 'invitation')} sent",
        actor=approver,
    )
    return sent


def waiting_for(user: Person) -> list[Waiting]:
    """Lists in open cycles waiting for this user's approval, oldest request first."""
    if not user.is_authenticated:
        return []
    query = (
        db.select(FeedbackRequest)
        .join(FeedbackRequest.cycle)
        .join(FeedbackRequest.subject)
        .where(
            FeedbackRequest.approval == APPROVAL_PENDING,
            Cycle.status == OPEN,
            FeedbackRequest.subject_id != user.id,
        )
        .order_by(FeedbackRequest.created_at, FeedbackRequest.id)
    )
    if not user.is_admin:
        query = query.where(Person.line_manager_id == user.id)
    candidates = db.session.scalars(query)
    return [
        Waiting(feedback_request, on_behalf=approver_of(feedback_request) is None)
        for feedback_request in candidates
        if may_approve(user, feedback_request)
    ]


def _require_pending(feedback_request: FeedbackRequest) -> None:
    if not feedback_request.cycle.is_open:
        raise DomainError(
            f"“{feedback_request.cycle.name}” is not open, so the list cannot change."
        )
    if not feedback_request.awaits_approval:
        raise DomainError("This list is not waiting for approval.")


def _move(feedback_request: FeedbackRequest, to: str, *, current: str | None) -> None:
    # One conditional update, so two clicks (or two approvers) move the list only once.
    was = (
        or_(FeedbackRequest.approval.is_(None), FeedbackRequest.approval != APPROVAL_PENDING)
        if current is None
        else FeedbackRequest.approval == current
    )
    moved = db.session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.id == feedback_request.id, was)
        .values(approval=to)
    ).rowcount
    if moved != 1:
        raise DomainError("Someone else has just changed this list; please look again.")
    db.session.refresh(feedback_request)
