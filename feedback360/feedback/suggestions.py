"""Whom a staff member might ask: their line manager and colleagues in their business unit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case

from feedback360.accounts.models import Person
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.groups import DIRECT_REPORT, LINE_MANAGER, OTHER, PEER

# A large unit would bury the form; anyone not listed can still be added by name.
MAX_COLLEAGUES = 40


@dataclass(frozen=True)
class Suggestion:
    person: Person
    group: str  # the likely group; the staff member may change it


def suggested_raters(feedback_request: FeedbackRequest, groups: list[str]) -> list[Suggestion]:
    """Active people the subject might nominate who are not on their list yet.

    Their line manager first (as line manager), then colleagues in their business unit:
    those who report to them as direct reports, the others as peers.
    """
    subject = feedback_request.subject
    taken = {invitation.email.lower() for invitation in feedback_request.invitations}
    manager = subject.line_manager
    suggestions = []
    if (
        manager is not None
        and manager.active
        and manager.email.lower() not in taken
        and LINE_MANAGER in groups
        and not any(invitation.group == LINE_MANAGER for invitation in feedback_request.invitations)
    ):
        suggestions.append(Suggestion(manager, LINE_MANAGER))
    for colleague in _colleagues(subject, taken):
        group = _likely_group(colleague, subject, groups)
        if group is not None:
            suggestions.append(Suggestion(colleague, group))
    return suggestions


def _colleagues(subject: Person, taken: set[str]) -> list[Person]:
    """Active people in the subject's unit, not the subject, their manager or anyone listed."""
    if not subject.business_unit:
        return []
    reports_to_subject = case((Person.line_manager_id == subject.id, 0), else_=1)
    query = (
        db.select(Person)
        .where(
            Person.business_unit == subject.business_unit,
            Person.active.is_(True),
            Person.id != subject.id,
            Person.email.not_in(sorted(taken)),
        )
        # Direct reports first: they are the likeliest raters after the manager.
        .order_by(reports_to_subject, Person.name, Person.id)
        .limit(MAX_COLLEAGUES)
    )
    if subject.line_manager_id is not None:
        query = query.where(Person.id != subject.line_manager_id)
    return list(db.session.scalars(query))


def _likely_group(colleague: Person, subject: Person, groups: list[str]) -> str | None:
    likely = DIRECT_REPORT if colleague.line_manager_id == subject.id else PEER
    for group in (likely, PEER, OTHER, DIRECT_REPORT):
        if group in groups:
            return group
    return None
