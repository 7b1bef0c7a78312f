"""How far a cycle's report build has got, read from the database where the build commits
report by report, so any web process can follow a build running elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement

from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.models import Report


@dataclass(frozen=True)
class BuildProgress:
    """What the dashboard shows of the cycle's reports and of its latest build."""

    total: int
    frozen: int  # analysed and kept: can be released
    built: int  # rendered too: page and PDF made
    failures: list[str]
    started_at: datetime | None
    running: bool
    finished: bool

    @property
    def complete(self) -> bool:
        return self.built >= self.total

    @property
    def releasable(self) -> bool:
        return self.frozen >= self.total

    @property
    def stopped(self) -> bool:
        """Started, neither running nor finished: the process ended before its work."""
        return self.started_at is not None and not self.running and not self.finished


def build_progress(cycle: Cycle) -> BuildProgress:
    total, frozen, built = _request_count(cycle), _report_count(cycle), _rendered_count(cycle)
    # The build process notes its end only after its last report is kept and its workers
    # have stopped; in between, every report is built and the build is shown as finished,
    # never "1 of 1 built" beside "the build is running".
    all_built = cycle.build_started_at is not None and built >= total
    return BuildProgress(
        total=total,
        frozen=frozen,
        built=built,
        failures=list(cycle.build_failures or []),
        started_at=cycle.build_started_at,
        running=cycle.build_running and not all_built,
        finished=cycle.build_has_finished or all_built,
    )


def pending_count(cycle: Cycle, *, rebuild: bool = False) -> int:
    """How many reports a build will make: those not rendered yet, or all with rebuild."""
    total = _request_count(cycle)
    return total if rebuild else total - _rendered_count(cycle)


def _request_count(cycle: Cycle) -> int:
    return int(
        db.session.scalar(
            db.select(db.func.count()).select_from(FeedbackRequest).filter_by(cycle_id=cycle.id)
        )
        or 0
    )


def _report_count(cycle: Cycle, *where: ColumnElement[bool]) -> int:
    return int(
        db.session.scalar(
            db.select(db.func.count())
            .select_from(Report)
            .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
            .where(FeedbackRequest.cycle_id == cycle.id, *where)
        )
        or 0
    )


def _rendered_count(cycle: Cycle) -> int:
    return _report_count(cycle, Report.html.is_not(None))
