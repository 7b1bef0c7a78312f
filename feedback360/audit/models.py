"""One audited event: who did what to which object, and when."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.extensions import db
from feedback360.timeutil import utcnow

if TYPE_CHECKING:  # the audit log sits below accounts: a name only, resolved by SQLAlchemy
    from feedback360.accounts.models import Person


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None for the system (a cron command) or once the actor's data has been erased.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))  # e.g. "report.download", "cycle.open"
    target: Mapped[str] = mapped_column(String(200), default="")  # e.g. "report 12"
    detail: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[Person | None] = relationship()
