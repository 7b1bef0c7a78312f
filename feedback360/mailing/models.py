"""A message to send. Its words are made when it is sent, from its kind and objects.

So a rater's personal link is never stored: it is derived again at each attempt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest, Invitation
from feedback360.timeutil import utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"


class QueuedMail(db.Model):
    __tablename__ = "queued_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # invitation, reminder, report_ready, ...
    to_address: Mapped[str] = mapped_column(String(254))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_request.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    invitation: Mapped[Invitation | None] = relationship()
    request: Mapped[FeedbackRequest | None] = relationship()
