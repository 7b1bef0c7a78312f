"""A cycle: a period in which staff ask for feedback on one framework version."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.frameworks.models import Framework
from feedback360.timeutil import today, utcnow

DRAFT, OPEN, CLOSED, RELEASED = "draft", "open", "closed", "released"


def new_answer_key_id() -> str:
    return secrets.token_hex(16)


# When reports reach people: the coach first and the person later, or both at once.
COACH_FIRST, TOGETHER = "coach_first", "together"
RATER_GROUPS = ("line_manager", "peer", "direct_report", "other")


class Cycle(db.Model):
    __tablename__ = "cycle"
    __table_args__ = (
        CheckConstraint("anonymity_threshold >= 2", name="threshold_at_least_two"),
        CheckConstraint("min_raters >= 1 AND max_raters >= min_raters", name="rater_limits"),
        CheckConstraint("retention_days >= 0", name="retention_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"))
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    closes_on: Mapped[date | None]
    anonymity_threshold: Mapped[int] = mapped_column(default=3)
    min_raters: Mapped[int] = mapped_column(default=5)
    max_raters: Mapped[int] = mapped_column(default=15)
    manager_identifiable: Mapped[bool] = mapped_column(default=False)
    opens_on: Mapped[date | None]
    # The rater groups a staff member may nominate into, from RATER_GROUPS.
    rater_groups: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(RATER_GROUPS))
    manager_approves: Mapped[bool] = mapped_column(default=False)
    # Raters come from the staff list; with this, an address outside it may be nominated,
    # and waits for the line manager's (or an administrator's) approval.
    outside_raters: Mapped[bool] = mapped_column(default=False)
    release_mode: Mapped[str] = mapped_column(String(20), default=TOGETHER)
    released_to_coaches: Mapped[bool] = mapped_column(default=False)
    released_on: Mapped[date | None]
    # Rater-level responses are deleted this many days after release (see retention).
    retention_days: Mapped[int] = mapped_column(default=90)
    responses_deleted_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The latest report build, written by the process that builds (see cycles.report_build),
    # so the dashboard can follow a build running elsewhere.
    build_started_at: Mapped[datetime | None]
    build_finished_at: Mapped[datetime | None]
    build_pid: Mapped[int | None]
    build_failures: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Names the key that seals raters' answers until the close (the key itself is never in
    # the database; see feedback.sealing). The close destroys the key.
    answer_key_id: Mapped[str | None] = mapped_column(String(32), default=new_answer_key_id)

    framework: Mapped[Framework] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def open(self) -> None:
        if self.status != DRAFT:
            raise DomainError(f"Cycle “{self.name}” is {self.status}; only a draft cycle can open.")
        self.status = OPEN

    def close(self) -> None:
        if self.status != OPEN:
            raise DomainError(
                f"Cycle “{self.name}” is {self.status}; only an open cycle can close."
            )
        self.status = CLOSED

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    def release_to_coaches(self) -> None:
        """Coaches may read their coachees' reports; the subjects may not yet."""
        self.check_releasable()
        if self.released_to_coaches:
            raise DomainError(f"The reports of “{self.name}” are already released to coaches.")
        self.released_to_coaches = True

    def release(self, on: date | None = None) -> None:
        """Release to the subjects (and to the coaches, if not done already)."""
        self.check_releasable()
        if self.release_mode == COACH_FIRST and not self.released_to_coaches:
            raise DomainError(
                f"“{self.name}” releases reports to coaches first; release them to coaches "
                "before releasing them to staff."
            )
        self.released_to_coaches = True
        self.status = RELEASED
        self.released_on = on or today()

    def check_releasable(self) -> None:
        if self.status != CLOSED:
            raise DomainError(
                f"Cycle “{self.name}” is {self.status}; reports are released after it closes."
            )
