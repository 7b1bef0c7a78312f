"""The rules of asking for and giving feedback: requests, nominations, drafts, submission."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from sqlalchemy import Select, Update, bindparam, event, exists, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, joinedload, lazyload, object_session
from sqlalchemy.orm.attributes import set_committed_value

from feedback360.accounts.mailboxes import same_mailbox
from feedback360.accounts.models import Person
from feedback360.accounts.services import person_by_email
from feedback360.cycles.models import OPEN, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import mails
from feedback360.feedback.answers import MAX_COMMENT, Answers, not_seen_words
from feedback360.feedback.links import hash_token, rater_token
from feedback360.feedback.models import (
    INVITED,
    NOMINATED,
    OPENED,
    OTHER_MANAGER,
    OUTSIDE,
    SUBMITTED,
    Comment,
    FeedbackRequest,
    Invitation,
    Response,
)
from feedback360.feedback.packed import pack_scores
from feedback360.feedback.sealing import AnswersUnreadable, has_key, make_key, seal, unseal
from feedback360.frameworks.models import Framework
from feedback360.frameworks.snapshots import FrameworkSnapshot, snapshot_of
from feedback360.groups import LINE_MANAGER, RATER_GROUPS, SELF

ALREADY_SENT = "This feedback has already been sent or declined."
SELF_ALREADY_SENT = "Your self-assessment has already been submitted."
_HELD_OPEN = "feedback360.cycles_held_open"  # key in Session.info


def start_request(cycle: Cycle, subject: Person) -> FeedbackRequest:
    """Open a feedback request for the subject in an open cycle (one per cycle)."""
    if not cycle.is_open:
        raise DomainError(f"“{cycle.name}” is not open for feedback requests.")
    existing = db.session.execute(
        db.select(FeedbackRequest).filter_by(cycle_id=cycle.id, subject_id=subject.id)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    feedback_request = FeedbackRequest(cycle=cycle, subject=subject)
    db.session.add(feedback_request)
    db.session.flush()
    return feedback_request


def _require_open(feedback_request: FeedbackRequest) -> None:
    """Refuse unless the cycle is open, holding it open until this transaction ends.

    On PostgreSQL the cycle's row is read with a share lock: closing the cycle must wait
    for an answer being saved, and an answer saved after the close began sees it closed.
    Otherwise an answer committed while the close was writing would be lost. (SQLite runs
    one writing transaction at a time already.)
    """
    held = db.session.info.setdefault(_HELD_OPEN, set())
    if feedback_request.cycle_id in held:
        return  # already read open, and locked so, in this transaction
    status = db.session.execute(
        db.select(Cycle.status)
        .where(Cycle.id == feedback_request.cycle_id)
        .with_for_update(read=True)
    ).scalar_one()
    if status != OPEN:
        raise DomainError(_closed(feedback_request.cycle))
    held.add(feedback_request.cycle_id)


@event.listens_for(db.session, "after_transaction_end")
def _forget_held_open(session: Session, transaction: SessionTransaction) -> None:
    # Any end, a savepoint's too: rolling back to a savepoint releases the locks taken after it.
    session.info.pop(_HELD_OPEN, None)


@event.listens_for(Cycle.status, "set")
def _status_changed(cycle: Cycle, value: str, old: str, initiator: object) -> None:
    session = object_session(cycle)  # a close in this very transaction
    if session is not None:
        session.info.pop(_HELD_OPEN, None)


def _closed(cycle: Cycle) -> str:
    return f"“{cycle.name}” has closed; answers can no longer be changed."


def check_answers(
    answers: Answers,
    framework: Framework | FrameworkSnapshot,
    *,
    complete: bool,
    about_self: bool = False,
) -> None:
    """Refuse over-long comments always, and unanswered statements when submitting."""
    for value_id in answers.too_long_comments():
        raise DomainError(
            f"Please shorten this comment to {MAX_COMMENT} characters or fewer.", f"c{value_id}"
        )
    if complete:
        missing = answers.unanswered(framework)
        if missing:
            count = (
                "1 statement still needs"
                if len(missing) == 1
                else (f"{len(missing)} statements still need")
            )
            raise DomainError(
                f"{count} an answer: choose a rating or “{not_seen_words(about_self)}” for each.",
                f"s{missing[0].id}",
            )


def save_self_draft(feedback_request: FeedbackRequest, answers: Answers) -> None:
    _require_open(feedback_request)
    if feedback_request.self_assessed:
        raise DomainError("Your self-assessment has already been submitted.")
    check_answers(answers, feedback_request.cycle.framework, complete=False)
    feedback_request.self_draft = answers.to_draft()


def submit_self_assessment(feedback_request: FeedbackRequest, answers: Answers) -> None:
    """Store the subject's own ratings as the request's self response."""
    _require_open(feedback_request)
    check_answers(answers, feedback_request.cycle.framework, complete=True, about_self=True)
    claimed = db.session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.id == feedback_request.id, FeedbackRequest.self_assessed.is_(False))
        .values(self_assessed=True, self_draft=None)
    ).rowcount
    if claimed != 1:
        raise DomainError(SELF_ALREADY_SENT)
    _store_response(feedback_request, SELF, answers, refusal=SELF_ALREADY_SENT)
    db.session.refresh(feedback_request)


def nominate(feedback_request: FeedbackRequest, name: str, email: str, group: str) -> Invitation:
    """The subject adds a rater to their list, unless it is with their line manager."""
    _require_unlocked(feedback_request)
    return add_rater(feedback_request, name, email, group, by=feedback_request.subject)


def nominate_people(feedback_request: FeedbackRequest, choices: list[tuple[Person, str]]) -> int:
    """The subject adds several suggested colleagues at once: all of them, or none."""
    _require_unlocked(feedback_request)
    if not choices:
        raise DomainError("Tick the people you want to add to your list.")
    room = feedback_request.cycle.max_raters - len(feedback_request.invitations)
    if len(choices) > room:
        raise DomainError(
            f"You ticked {len(choices)} people but this cycle allows at most "
            f"{feedback_request.cycle.max_raters} raters, so only {max(room, 0)} more can join "
            "your list."
        )
    for person, group in choices:  # people already looked up: one insert for them all
        _add_rater(
            feedback_request, person.name, person.email, group, feedback_request.subject, person
        )
    db.session.flush()
    return len(choices)


def offered_groups(cycle: Cycle) -> list[str]:
    """The rater groups the cycle asks for, in report order."""
    chosen = cycle.rater_groups or RATER_GROUPS
    return [group for group in RATER_GROUPS if group in chosen]


def add_rater(
    feedback_request: FeedbackRequest, name: str, email: str, group: str, *, by: Person
) -> Invitation:
    """Add a rater to the list; refuses the subject under any address, duplicates, people
    not on the staff list (unless the cycle allows them), other groups and too many.

    The subject nominates; an approving line manager or administrator may add raters by the
    same rules. A rater from outside the staff list, or a line manager who is not the
    subject's recorded one, waits for approval (rule 10) unless `by` may give it.
    """
    invitation = _add_rater(feedback_request, name, email, group, by, person_by_email(email))
    db.session.flush()
    return invitation


def _add_rater(
    feedback_request: FeedbackRequest,
    name: str,
    email: str,
    group: str,
    by: Person,
    staff: Person | None,
) -> Invitation:
    """`add_rater` with the staff list's entry for `email` (or None) already looked up."""
    _require_open(feedback_request)
    cycle, subject = feedback_request.cycle, feedback_request.subject
    by_subject = by.id == subject.id
    whose = "your" if by_subject else "the"
    name, email = name.strip(), email.strip().lower()
    if not name:
        raise DomainError("Enter the rater’s name.", "name")
    if group not in offered_groups(cycle):
        raise DomainError("Choose how this person works with you.", "group")
    staff = staff if staff is not None and staff.active else None
    if same_mailbox(email, subject.email) or (staff is not None and staff.id == subject.id):
        raise DomainError(
            "You cannot nominate yourself, under any address; your self-assessment covers you."
            if by_subject
            else f"{subject.name} cannot rate themself here; their self-assessment covers them.",
            "email",
        )
    if staff is None and not cycle.outside_raters:
        raise DomainError(
            f"{email} is not on the staff list. In this cycle raters come from the staff list: "
            "check the address, or choose someone else.",
            "email",
        )
    if staff is not None:
        name, email = staff.name, staff.email  # as the staff list has them
    if any(same_mailbox(invitation.email, email) for invitation in feedback_request.invitations):
        raise DomainError(f"{email} is already on {whose} list.", "email")
    if len(feedback_request.invitations) >= cycle.max_raters:
        raise DomainError(
            f"This cycle allows at most {cycle.max_raters} raters; remove one to add another."
        )
    if group == LINE_MANAGER and any(i.group == LINE_MANAGER for i in feedback_request.invitations):
        raise DomainError(f"There is already a line manager on {whose} list.", "group")
    invitation = Invitation(
        request=feedback_request,
        name=name,
        email=email,
        group=group,
        nominated_by_id=by.id,
        approval_needed=_approval_needed(feedback_request, staff, group),
    )
    if invitation.approval_needed and may_approve_rater(
        by, feedback_request, invitation.approval_needed
    ):
        invitation.approved_by_id = by.id
    db.session.add(invitation)
    return invitation


def _approval_needed(
    feedback_request: FeedbackRequest, staff: Person | None, group: str
) -> str | None:
    recorded = feedback_request.subject.line_manager_id
    if group == LINE_MANAGER and (staff is None or recorded is None or staff.id != recorded):
        return OTHER_MANAGER  # shown alone where identifiable: only an administrator says so
    return OUTSIDE if staff is None else None


def may_approve_rater(user: Person, feedback_request: FeedbackRequest, reason: str) -> bool:
    """Who may approve a rater: an administrator, or for an address outside the staff list
    the subject's active recorded line manager too. Never the subject."""
    if user.id == feedback_request.subject_id:
        return False
    if user.is_admin:
        return True
    manager = feedback_request.subject.line_manager
    return reason == OUTSIDE and manager is not None and manager.active and manager.id == user.id


def remove_nomination(invitation: Invitation) -> None:
    """The subject takes a rater off their list, unless it is with their line manager."""
    _require_unlocked(invitation.request)
    drop_rater(invitation)


def drop_rater(invitation: Invitation) -> None:
    """Take a rater who has not been invited yet off the list."""
    if invitation.status != NOMINATED:
        raise DomainError(f"{invitation.name} has been invited already and stays on the list.")
    # Through the collection, so the request's list is right for the rest of the request.
    invitation.request.invitations.remove(invitation)
    db.session.flush()


def send_own_invitations(feedback_request: FeedbackRequest) -> int:
    """The subject sends their invitations, where the cycle needs no line manager's approval."""
    if feedback_request.cycle.manager_approves:
        raise DomainError(
            "In this cycle your line manager approves your raters first: ask them to approve "
            "your list, and the invitations go out once they do."
        )
    return send_invitations(feedback_request)


def send_invitations(feedback_request: FeedbackRequest) -> int:
    """Invite every nominated rater by mail once the list reaches the cycle's minimum."""
    _require_open(feedback_request)
    waiting_for_approval = [i.name for i in feedback_request.invitations if i.awaits_approval]
    if waiting_for_approval:
        raise DomainError(
            f"{', '.join(waiting_for_approval)} must be approved before any invitation goes out: "
            "ask for your list to be approved."
        )
    if len(feedback_request.invitations) < feedback_request.cycle.min_raters:
        raise DomainError(
            f"Nominate at least {feedback_request.cycle.min_raters} raters before sending "
            f"invitations; you have {len(feedback_request.invitations)}."
        )
    waiting = [i for i in feedback_request.invitations if i.status == NOMINATED]
    for invitation in waiting:
        invitation.token_nonce = secrets.token_hex(16)
        invitation.mark_invited(hash_token(rater_token(invitation)))
    db.session.flush()
    mails.send_invitations(waiting)
    return len(waiting)


def _require_unlocked(feedback_request: FeedbackRequest) -> None:
    # While the line manager holds the list, only they may change it.
    if feedback_request.awaits_approval:
        raise DomainError(
            "Your list is with your line manager for approval, so it cannot change now."
        )


def invitation_for_token(token: str, *, for_update: bool = False) -> Invitation | None:
    """The invitation behind a link; `for_update` locks it until the commit, so that two
    saves arriving together (an autosave and the Next button) each build on the other."""
    if not token or len(token) > 200:
        return None
    query = _invitation_by_token_hash(for_update)
    return db.session.execute(query, {"token_hash": hash_token(token)}).scalar_one_or_none()


@cache
def _invitation_by_token_hash(for_update: bool) -> Select[tuple[Invitation]]:
    """Built once per process: with its loader options the query took longer to build than
    to run. Its request, subject, cycle and framework come with it (every rater page needs
    them), but not the framework's values: each process keeps those (frameworks.snapshots)."""
    to_request = joinedload(Invitation.request, innerjoin=True)
    query = (
        db.select(Invitation)
        .where(Invitation.token_hash == bindparam("token_hash"))
        .options(
            # Only what the pages say of the subject: not their password hash and the rest.
            to_request.joinedload(FeedbackRequest.subject, innerjoin=True).load_only(Person.name),
            to_request.joinedload(FeedbackRequest.cycle, innerjoin=True)
            .joinedload(Cycle.framework, innerjoin=True)
            .options(lazyload(Framework.values)),
        )
    )
    if for_update:
        query = query.with_for_update(of=Invitation)  # not the request, cycle or framework
    return query


def note_link_opened(invitation: Invitation) -> None:
    """Mark the invitation opened on the rater's first visit, as Invitation.mark_opened
    does, but in one plain statement: fifty raters open their links in the same minute."""
    if invitation.status != INVITED:
        return
    db.session.execute(
        update(Invitation.__table__)
        .where(Invitation.id == invitation.id, Invitation.status == INVITED)
        .values(status=OPENED)
    )
    set_committed_value(invitation, "status", OPENED)


def rater_draft(invitation: Invitation) -> dict[str, Any] | None:
    """The rater's saved answers, unsealed; None when nothing has been saved."""
    if invitation.sealed_answers is None:
        return None
    key_id = invitation.request.cycle.answer_key_id or ""
    return unseal(key_id, invitation.id, invitation.sealed_answers)


def _sealed(invitation: Invitation, answers: Answers) -> bytes:
    cycle = invitation.request.cycle
    if cycle.answer_key_id is None:
        raise AnswersUnreadable
    if not has_key(cycle.answer_key_id):
        # Made on the cycle's first sealed answer. With answers already sealed, a missing key
        # means it was lost: a new one would hide that until the close. Looked for again
        # after the query: another worker may have made it and saved its first answer in
        # between (it makes the key before it saves), which is no loss.
        if _holds_sealed_answers(cycle) and not has_key(cycle.answer_key_id):
            raise AnswersUnreadable
        make_key(cycle.answer_key_id)
    return seal(cycle.answer_key_id, invitation.id, answers.to_draft())


def _holds_sealed_answers(cycle: Cycle) -> bool:
    return (
        db.session.execute(
            db.select(Invitation.id)
            .join(FeedbackRequest, Invitation.request_id == FeedbackRequest.id)
            .where(FeedbackRequest.cycle_id == cycle.id, Invitation.sealed_answers.is_not(None))
            .limit(1)
        ).first()
        is not None
    )


def save_rater_draft(invitation: Invitation, answers: Answers) -> None:
    """Seal the rater's draft with their invitation in one small write, while the cycle is open."""
    if invitation.is_finished:
        raise DomainError(ALREADY_SENT)
    check_answers(answers, snapshot_of(invitation.request.cycle.framework), complete=False)
    invitation.mark_opened()  # a second write, at the commit, only for a link never opened
    sealed = _sealed(invitation, answers)
    saved = db.session.execute(
        _draft_saved_while_open(),
        {"invitation_id": invitation.id, "cycle_id": invitation.request.cycle_id, "sealed": sealed},
    ).rowcount
    if saved != 1:
        raise DomainError(_closed(invitation.request.cycle))
    set_committed_value(invitation, "sealed_answers", sealed)  # as stored, not read again


@cache
def _draft_saved_while_open() -> Update:
    """The draft's one write, made only while the cycle is open. The cycle's row is read as
    _require_open reads it, with a share lock until the transaction ends, but inside the
    write: one statement fewer per save. (Built once per process, like the rater's query.)"""
    invitation = Invitation.__table__
    still_open = exists(
        db.select(Cycle.id)
        .where(Cycle.id == bindparam("cycle_id"), Cycle.status == OPEN)
        .with_for_update(read=True)
    )
    return (
        update(invitation)
        .where(invitation.c.id == bindparam("invitation_id"), still_open)
        .values(sealed_answers=bindparam("sealed"))
    )


def submit_rater_response(invitation: Invitation, answers: Answers) -> None:
    """Keep the rater's answers sealed with the invitation until the close cuts them from it."""
    _require_open(invitation.request)
    check_answers(answers, snapshot_of(invitation.request.cycle.framework), complete=True)
    # One conditional update claims the invitation, so a second submission changes nothing.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.status.in_((INVITED, OPENED)))
        .values(status=SUBMITTED, sealed_answers=_sealed(invitation, answers))
    ).rowcount
    if claimed != 1:
        raise DomainError(ALREADY_SENT)
    db.session.refresh(invitation)


def decline(invitation: Invitation) -> None:
    _require_open(invitation.request)
    invitation.mark_declined()


def _store_response(
    feedback_request: FeedbackRequest, group: str, answers: Answers, refusal: str
) -> None:
    """Add the response; the database's unique keys refuse a second submission with `refusal`."""
    statement_ids = [statement.id for statement in feedback_request.cycle.framework.statements]
    response = Response(
        request_id=feedback_request.id,
        group=group,
        scores=pack_scores(answers.ratings, statement_ids),
    )
    response.comments = [
        Comment(value_id=vid, text=text) for vid, text in answers.comments.items() if text
    ]
    db.session.add(response)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise DomainError(refusal) from error
