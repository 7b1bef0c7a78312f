"""Requests, invitations and responses. A response keeps no link to who gave it (rule 6).

Until the cycle closes a rater's answers stay with their invitation, sealed (see sealing);
at the close they become responses, written all at once in random order, without a date,
each under a group that reaches k or the pooled label (see closing).
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.accounts.models import Person
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.groups import LINE_MANAGER
from feedback360.timeutil import utcnow

# Why an invitation waits for approval before it is sent: an address not on the staff list
# (the line manager or an administrator approves), or a line manager who is not the
# subject's recorded one (an administrator approves).
OUTSIDE, OTHER_MANAGER = "outside", "other_manager"

# FeedbackRequest.approval once the list needs an approver: with them, then approved.
APPROVAL_PENDING, APPROVED = "pending", "approved"

NOMINATED, INVITED, OPENED, SUBMITTED, DECLINED = (
    "nominated",
    "invited",
    "opened",
    "submitted",
    "declined",
)


def random_id() -> str:
    return secrets.token_hex(16)


class FeedbackRequest(db.Model):
    __tablename__ = "feedback_request"
    __table_args__ = (UniqueConstraint("cycle_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    self_draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    self_assessed: Mapped[bool] = mapped_column(default=False)
    # Where the cycle asks the line manager to approve nominations: None (not asked yet),
    # "pending" or "approved".
    approval: Mapped[str | None] = mapped_column(String(20))
    # How many responses each group gave, counted at the close ({group: count}); the
    # responses themselves are stored only under a group that reaches k, or pooled.
    response_counts: Mapped[dict[str, int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cycle: Mapped[Cycle] = relationship()
    subject: Mapped[Person] = relationship()
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="request", order_by="Invitation.id", cascade="all, delete-orphan"
    )
    responses: Mapped[list[Response]] = relationship(
        back_populates="request", cascade="all, delete-orphan"
    )

    @property
    def awaits_approval(self) -> bool:
        """The list is with its approver: locked, and no invitation goes out yet."""
        return self.approval == APPROVAL_PENDING

    @property
    def is_approved(self) -> bool:
        return self.approval == APPROVED

    def rater_responses_by_group(self) -> Counter[str]:
        """How many raters of each group have responded: their invitations say so, since the
        answers themselves stay sealed until the close and are then stored unlinked."""
        return Counter(i.group for i in self.invitations if i.status == SUBMITTED)

    @property
    def rater_responses(self) -> int:
        return sum(self.rater_responses_by_group().values())


class Invitation(db.Model):
    """A nominated rater. It records only *that* they submitted, never what (rule 6)."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("request_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    group: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=NOMINATED)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The link is derived from this nonce and the app's secret key, so a reminder can repeat
    # it while the database holds only the token's hash.
    token_nonce: Mapped[str | None] = mapped_column(String(32))
    last_reminded_on: Mapped[date | None]
    reminders: Mapped[int] = mapped_column(default=0)
    # The rater's draft, then their submitted answers until the close: sealed under the
    # cycle's answer key, which the database never holds.
    sealed_answers: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Who put the rater on the list (the subject, or the person approving it), and for a
    # rater who needs approval, why and who gave it.
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    approval_needed: Mapped[str | None] = mapped_column(String(20))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[FeedbackRequest] = relationship(back_populates="invitations")
    nominated_by: Mapped[Person | None] = relationship(foreign_keys=[nominated_by_id])
    approved_by: Mapped[Person | None] = relationship(foreign_keys=[approved_by_id])

    @property
    def awaits_approval(self) -> bool:
        return self.approval_needed is not None and self.approved_by_id is None

    @property
    def is_outside(self) -> bool:
        """Not on the staff list."""
        return self.approval_needed == OUTSIDE

    @property
    def is_other_manager(self) -> bool:
        """Named as line manager, but not the one on record."""
        return self.approval_needed == OTHER_MANAGER

    @property
    def is_line_manager(self) -> bool:
        return self.group == LINE_MANAGER

    @property
    def is_finished(self) -> bool:
        return self.status in (SUBMITTED, DECLINED)

    @property
    def is_sent(self) -> bool:
        return self.status != NOMINATED

    def mark_invited(self, token_hash: str) -> None:
        if self.status != NOMINATED:
            raise DomainError(f"{self.name} has already been invited.")
        self.token_hash = token_hash
        self.status = INVITED

    def mark_opened(self) -> None:
        if self.status == INVITED:
            self.status = OPENED

    def mark_declined(self) -> None:
        if self.is_finished:
            raise DomainError("This invitation has already been answered.")
        self.status = DECLINED
        self.sealed_answers = None


class Response(db.Model):
    """Stored against the request and a group of at least k (or the pooled label) only, with
    a random id and no date (rule 6). Its ratings are packed, one byte per statement in the
    framework's order (see packed), so a cycle is read with no join."""

    __tablename__ = "response"
    # At most one self-assessment per request, enforced by the database.
    __table_args__ = (
        Index(
            "uq_response_self",
            "request_id",
            unique=True,
            sqlite_where=text("\"group\" = 'self'"),
            postgresql_where=text("\"group\" = 'self'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_request.id"), index=True)
    group: Mapped[str] = mapped_column(String(20))
    scores: Mapped[bytes] = mapped_column(LargeBinary)

    request: Mapped[FeedbackRequest] = relationship(back_populates="responses")
    comments: Mapped[list[Comment]] = relationship(cascade="all, delete-orphan")


class Comment(db.Model):
    __tablename__ = "comment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    response_id: Mapped[str] = mapped_column(ForeignKey("response.id"), index=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("value.id"))
    text: Mapped[str] = mapped_column(Text)
