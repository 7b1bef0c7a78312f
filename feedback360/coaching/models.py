"""A debrief: the coach's record that they went through a report with its subject."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.accounts.models import Person
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.timeutil import utcnow


class Debrief(db.Model):
    """One per coach and request: when a person's coach changes, the new coach records their
    own debrief and the previous coach's note stays with the previous coach."""

    __tablename__ = "debrief"
    __table_args__ = (UniqueConstraint("request_id", "coach_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id"), index=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    held_on: Mapped[date]
    # Visible only to the coach who wrote it.
    private_note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[FeedbackRequest] = relationship()
    coach: Mapped[Person] = relationship()
