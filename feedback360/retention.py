"""Data retention: a released cycle's rater-level answers are deleted once their time is up.

The personal reports (kept as built) and the organisation summary (kept just before) stay,
so people can still read their reports and the organisation its anonymous figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, func, null, select, update

from feedback360.audit.services import record
from feedback360.cycles.models import RELEASED, Cycle
from feedback360.extensions import db
from feedback360.feedback.models import Comment, FeedbackRequest, Invitation, Response
from feedback360.reports.cycle_summary import cycle_summary


@dataclass(frozen=True)
class Deleted:
    cycle: Cycle
    responses: int


def deletion_date(cycle: Cycle) -> date | None:
    """When the cycle's responses are due for deletion; None before it is released."""
    if cycle.status != RELEASED or cycle.released_on is None:
        return None
    return cycle.released_on + timedelta(days=cycle.retention_days)


def due_cycles(today: date) -> list[Cycle]:
    """Released cycles whose responses are still kept though their retention period is over."""
    released = db.session.scalars(
        select(Cycle)
        .where(Cycle.status == RELEASED, Cycle.responses_deleted_on.is_(None))
        .order_by(Cycle.id)
    )
    return [cycle for cycle in released if (due := deletion_date(cycle)) and due <= today]


def apply_retention(today: date) -> list[Deleted]:
    """Delete the responses of every cycle due by today; a cycle already done is left alone."""
    return [Deleted(cycle, delete_responses(cycle, today)) for cycle in due_cycles(today)]


def delete_responses(cycle: Cycle, today: date) -> int:
    """Delete the cycle's responses and drafts; its organisation summary stays as kept."""
    cycle_summary(cycle)  # a cycle closed before summaries were kept at the close keeps it now
    requests = select(FeedbackRequest.id).where(FeedbackRequest.cycle_id == cycle.id)
    responses = select(Response.id).where(Response.request_id.in_(requests))
    count = db.session.scalar(select(func.count()).select_from(responses.subquery())) or 0
    # Bulk statements: a large cycle holds half a million responses, too many to load.
    bulk = {"synchronize_session": False}
    db.session.execute(
        delete(Comment).where(Comment.response_id.in_(responses)), execution_options=bulk
    )
    db.session.execute(
        delete(Response).where(Response.request_id.in_(requests)), execution_options=bulk
    )
    db.session.execute(
        update(Invitation).where(Invitation.request_id.in_(requests)).values(sealed_answers=null()),
        execution_options=bulk,
    )
    db.session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.cycle_id == cycle.id)
        .values(self_draft=null()),
        execution_options=bulk,
    )
    db.session.expire_all()  # objects loaded before still hold what was just deleted
    cycle.responses_deleted_on = today
    record(
        "retention.apply",
        f"cycle {cycle.id}",
        f"Deleted the {count} responses of “{cycle.name}” and every draft, "
        f"{cycle.retention_days} days after release; kept the reports and the organisation "
        "summary.",
    )
    db.session.flush()
    return count
