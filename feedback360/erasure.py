"""Erasing a person's data on request, without changing what anyone else has received."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, or_

from feedback360.accounts.import_jobs import discard, import_under_way
from feedback360.accounts.models import ERASED_NAME, ImportJob, Person
from feedback360.audit.services import record
from feedback360.coaching.models import Debrief
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import (
    Comment,
    FeedbackRequest,
    Invitation,
    Response,
)
from feedback360.mailing.models import QueuedMail
from feedback360.reports.models import Report
from feedback360.timeutil import utcnow


@dataclass(frozen=True)
class ErasurePlan:
    """What erasing the person deletes or changes, for the confirmation page and the log."""

    cycles: list[str]  # the cycles of their own feedback requests
    responses: int
    reports: int
    debriefs: int
    rater_invitations: int
    team_members: int
    coachees: int

    def summary(self) -> str:
        return (
            f"{len(self.cycles)} requests, {self.responses} responses, {self.reports} reports, "
            f"{self.debriefs} debriefs deleted; {self.rater_invitations} rater invitations, "
            f"{self.team_members} manager links, {self.coachees} coach links removed"
        )


def _own_requests(person: Person) -> Select[tuple[int]]:
    return db.select(FeedbackRequest.id).where(FeedbackRequest.subject_id == person.id)


def _rater_invitations(person: Person) -> list[Invitation]:
    """Invitations to give feedback to others: they match the person by email."""
    query = db.select(Invitation).where(
        func.lower(Invitation.email) == person.email.lower(),
        Invitation.request_id.not_in(_own_requests(person)),
    )
    return list(db.session.scalars(query))


def _count(query: Select[Any]) -> int:
    return db.session.scalar(db.select(func.count()).select_from(query.subquery())) or 0


def erasure_plan(person: Person) -> ErasurePlan:
    requests = db.session.scalars(
        db.select(FeedbackRequest).filter_by(subject_id=person.id).order_by(FeedbackRequest.id)
    ).all()
    mine = _own_requests(person)
    return ErasurePlan(
        cycles=[feedback_request.cycle.name for feedback_request in requests],
        responses=_count(db.select(Response.id).where(Response.request_id.in_(mine))),
        reports=_count(db.select(Report.id).where(Report.request_id.in_(mine))),
        debriefs=_count(db.select(Debrief.id).where(Debrief.request_id.in_(mine))),
        rater_invitations=len(_rater_invitations(person)),
        team_members=_count(db.select(Person.id).filter_by(line_manager_id=person.id)),
        coachees=_count(db.select(Person.id).filter_by(coach_id=person.id)),
    )


def erase_person(person: Person, confirm_email: str, *, acting: Person | None) -> ErasurePlan:
    """Delete their own feedback and anonymise every trace of them; responses they gave stay."""
    if person.is_erased:
        raise DomainError("This person’s data has already been erased.")
    if acting is not None and person.id == acting.id:
        raise DomainError("You cannot erase your own data; ask another administrator.")
    if confirm_email.strip().lower() != person.email.lower():
        raise DomainError("Type the person’s email address exactly to confirm.", "confirm_email")
    if import_under_way() is not None:  # its file may hold them, and would add them back
        raise DomainError(
            "A staff-list import is under way; erase this person’s data once it has ended."
        )
    plan = erasure_plan(person)
    _forget_in_imports(person)
    _delete_own_feedback(person)
    _anonymise_as_rater(person)
    for column in (Person.line_manager_id, Person.coach_id):
        for other in db.session.scalars(db.select(Person).where(column == person.id)):
            setattr(other, column.key, None)
    # A coach's private notes on others' debriefs could be read by nobody now.
    for debrief in db.session.scalars(db.select(Debrief).filter_by(coach_id=person.id)):
        debrief.private_note = ""
    _anonymise_person(person)
    record("person.erase", f"person {person.id}", plan.summary(), actor=acting)
    db.session.flush()
    return plan


def _delete_own_feedback(person: Person) -> None:
    mine = _own_requests(person)
    invitations = db.select(Invitation.id).where(Invitation.request_id.in_(mine))
    responses = db.select(Response.id).where(Response.request_id.in_(mine))
    statements = [
        delete(QueuedMail).where(
            or_(
                QueuedMail.request_id.in_(mine),
                QueuedMail.invitation_id.in_(invitations),
                QueuedMail.person_id == person.id,
                func.lower(QueuedMail.to_address) == person.email.lower(),
            )
        ),
        delete(Debrief).where(Debrief.request_id.in_(mine)),
        delete(Report).where(Report.request_id.in_(mine)),
        delete(Comment).where(Comment.response_id.in_(responses)),
        delete(Response).where(Response.request_id.in_(mine)),
        delete(Invitation).where(Invitation.request_id.in_(mine)),
        delete(FeedbackRequest).where(FeedbackRequest.subject_id == person.id),
    ]
    for statement in statements:  # children first, so foreign keys hold on every database
        db.session.execute(statement, execution_options={"synchronize_session": False})
    db.session.expire_all()


def _forget_in_imports(person: Person) -> None:
    """A refused import's problem lines may name them, and a stopped one's file, started
    again, would bring them back: the lines lose their name and address, the file goes."""
    traces = [re.escape(person.email)]
    if len(person.name.strip()) > 2:  # a name of two letters would also match inside words
        traces.append(rf"\b{re.escape(person.name.strip())}\b")
    found = re.compile("|".join(traces), re.IGNORECASE)
    for job in db.session.scalars(db.select(ImportJob)):
        if job.problems and any(found.search(line) for line in job.problems):
            job.problems = [found.sub(ERASED_NAME, line) for line in job.problems]
        if job.stopped:
            discard(job)


def _anonymise_as_rater(person: Person) -> None:
    """Their invitations on others' requests lose their name, email and link."""
    for invitation in _rater_invitations(person):
        db.session.execute(
            delete(QueuedMail).where(QueuedMail.invitation_id == invitation.id),
            execution_options={"synchronize_session": False},
        )
        if not invitation.is_finished:
            invitation.mark_declined()
        invitation.name = ERASED_NAME
        invitation.email = f"erased-{invitation.id}@erased.invalid"
        # Answers they submitted stay sealed until the close writes them out unlinked, as
        # every other rater's: "responses they gave stay".
        invitation.token_hash = invitation.token_nonce = None


def _anonymise_person(person: Person) -> None:
    person.name = ERASED_NAME
    person.email = f"erased-{person.id}@erased.invalid"  # unique, and never deliverable
    person.password_hash = None
    person.oidc_subject = None  # the provider's id for them is theirs too
    person.totp_secret = person.totp_last_step = person.recovery_code_hashes = None
    person.staff_type = person.business_unit = None
    person.line_manager = person.coach = None
    person.is_admin = person.is_coach = False
    if person.active:
        person.deactivate()
    else:
        person.end_sessions()
    person.password_token_hash = person.password_token_expires_at = None
    person.erased_at = utcnow()
