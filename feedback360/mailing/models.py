"""A message to send. Its words are made when it is sent, from its kind and objects.

So a rater's personal link is never stored: it is derived again at each attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.extensions import db
from feedback360.timeutil import utcnow

if TYPE_CHECKING:  # the queue sits below the features whose rows it names: names only
    from feedback360.accounts.models import Person
    from feedback360.feedback.models import FeedbackRequest, Invitation

# pending: not tried yet (or a try was cut short); sent; failed: the last try failed, see
# last_error; skipped: no longer needed when its turn came (the rater had answered, the
# cycle had closed), so nobody is told to do what cannot be done.
PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
STATUSES = (PENDING, SENT, FAILED, SKIPPED)

INVITATION, REMINDER, REPORT_READY, APPROVAL_REQUEST = (
    "invitation",
    "reminder",
    "report_ready",
    "approval_request",
)


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
    # The person the message is for, when they have an account (report ready, approval).
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    invitation: Mapped[Invitation | None] = relationship()
    request: Mapped[FeedbackRequest | None] = relationship()
    person: Mapped[Person | None] = relationship()

    def __repr__(self) -> str:
        return f"<QueuedMail {self.id} {self.kind} {self.status}>"
