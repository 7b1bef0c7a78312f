"""Making a frozen report's pages and PDF: by a build's workers, or for its first reader.

A render is a pure function of the frozen document and the cycle's settings, so whoever
makes it, and whenever, the report is the same; two made at once are identical, and the
second is simply not kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from feedback360.accounts.models import Person
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.build_steps import Rendered, render_report
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.frozen import thaw_document
from feedback360.reports.models import Report
from feedback360.reports.services import settings_for
from feedback360.timeutil import utcnow


@dataclass(frozen=True)
class Unrendered:
    report_id: int
    request_id: int
    subject_name: str


def render_frozen(frozen: bytes, settings: CycleSettings) -> Rendered:
    """The pages and PDF of a frozen document; pure, so it can run in another process."""
    return render_report(thaw_document(frozen), settings)


def unrendered(cycle: Cycle) -> list[Unrendered]:
    """The cycle's frozen reports with no page or PDF yet, by request."""
    rows = db.session.execute(
        db.select(Report.id, Report.request_id, Person.name)
        .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
        .join(Person, FeedbackRequest.subject_id == Person.id)
        .where(FeedbackRequest.cycle_id == cycle.id, Report.html.is_(None))
        .order_by(Report.request_id)
    )
    return [Unrendered(*row) for row in rows]


def frozen_document(report_id: int) -> bytes:
    found = db.session.scalar(db.select(Report.document).where(Report.id == report_id))
    if found is None:
        raise LookupError(f"Report {report_id} has no frozen document.")
    return found


def keep_rendered(report_id: int, rendered: Rendered) -> bool:
    """Keep the render unless another was kept first (the same report); whether kept."""
    kept = db.session.execute(
        update(Report)
        .where(Report.id == report_id, Report.html.is_(None))
        .values(
            html=rendered.html,
            pdf=rendered.pdf,
            coach_html=rendered.coach_html,
            coach_print=rendered.coach_print,
            coach_pdf=None,
            rendered_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )
    return kept.rowcount == 1


def ensure_rendered(report: Report) -> None:
    """Render a frozen report now when its reader comes before the workers, and keep it.

    Ends the session's transaction first (without saving): on SQLite a transaction holds
    the write lock, which everyone who saves anything would wait for during the render.
    """
    if report.rendered:
        return
    report_id, settings = report.id, settings_for(report.request.cycle)
    frozen = frozen_document(report_id)
    db.session.rollback()
    rendered = render_frozen(frozen, settings)
    keep_rendered(report_id, rendered)
    db.session.commit()
    db.session.refresh(report)
