"""A cycle: a period in which staff ask for feedback on one framework version."""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.frameworks.models import Framework
from feedback360.groups import RATER_GROUPS
from feedback360.timeutil import today, utcnow

DRAFT, OPEN, CLOSED, RELEASED = "draft", "open", "closed", "released"


def new_answer_key_id() -> str:
    return secrets.token_hex(16)


# When reports reach people: the coach first and the person later, or both at once.
COACH_FIRST, TOGETHER = "coach_first", "together"


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
    # The latest report build, noted by the process that builds (see reports.building) so
    # the dashboard can follow a build running elsewhere; changed only by the build methods.
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
    def is_closed(self) -> bool:
        """Closed, with its reports not yet released to staff."""
        return self.status == CLOSED

    @property
    def is_released(self) -> bool:
        return self.status == RELEASED

    @property
    def releases_to_coaches_first(self) -> bool:
        return self.release_mode == COACH_FIRST

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

    def check_buildable(self) -> None:
        """Reports are built after the close and before anyone reads one: once released, to
        coaches or to staff, a report is final (a changed one would reveal late answers)."""
        if self.status != CLOSED or self.released_to_coaches:
            raise DomainError(
                f"Reports for “{self.name}” can be built only while it is closed and not "
                "yet released, to coaches or to staff; a released report never changes."
            )

    @property
    def build_running(self) -> bool:
        """The latest build has started, not finished, and its process is still alive."""
        if self.build_pid is None or self.build_started_at is None or self.build_has_finished:
            return False
        return _process_alive(self.build_pid)

    @property
    def build_has_finished(self) -> bool:
        """The latest build went to its end (one whose process died never does)."""
        started, finished = self.build_started_at, self.build_finished_at
        if started is None or finished is None:
            return False
        return finished >= started

    def check_build_can_start(self, pid: int | None = None, *, render_only: bool = False) -> None:
        """Refuse a build of reports that are final, or while another process builds them.
        Rendering reports already frozen changes nothing they show, so it may go on after
        the release (a reader who comes first has theirs rendered on the spot)."""
        if render_only:
            self.check_renderable()
        else:
            self.check_buildable()
        if self.build_running and self.build_pid != pid:
            raise DomainError(
                f"The reports of “{self.name}” are being built already (process "
                f"{self.build_pid}); follow the progress on the cycle's page."
            )

    def check_renderable(self) -> None:
        if self.status not in (CLOSED, RELEASED):
            raise DomainError(
                f"Cycle “{self.name}” is {self.status}; its reports are made after it closes."
            )

    def build_started(self, pid: int, *, render_only: bool = False) -> None:
        """A build has started in process pid; what the last one noted is cleared."""
        self.check_build_can_start(pid, render_only=render_only)
        self.build_started_at = utcnow()
        self.build_finished_at = None
        self.build_failures = []
        self.build_pid = pid

    def report_failed(self, message: str) -> None:
        """One report of the build under way could not be built; the others carry on."""
        self._check_build_under_way()
        self.build_failures = [*(self.build_failures or []), message]

    def build_finished(self) -> None:
        self._check_build_under_way()
        self.build_finished_at = utcnow()

    def _check_build_under_way(self) -> None:
        if self.build_started_at is None or self.build_has_finished:
            raise DomainError(f"No build of the reports of “{self.name}” is under way.")


def _process_alive(pid: int) -> bool:
    # Builds run on the web server's machine (see reports.background_build), so a process
    # id read back from the cycle names a process here.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, run by another user
    return True
