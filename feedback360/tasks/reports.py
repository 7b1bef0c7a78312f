"""The report-building task a Celery worker runs: one chunk of a cycle's reports.

A worker builds a chunk the way the local build does (the cycle analysed as a whole, each
report rendered, then kept and committed on its own), so a task that dies mid-way leaves
every finished report kept and none half-written. A report kept already is skipped, so a
task run twice (redelivered after its worker died, or a second build) builds nothing twice.
The chunks are sent, and waited for, by feedback360.reports.celery_build.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from sqlalchemy.exc import OperationalError as DatabaseUnreachable

from feedback360.background import BUILD_TASK
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.build_steps import Rendered, describe, render_report
from feedback360.reports.engine.results import ReportDocument
from feedback360.reports.models import Report
from feedback360.reports.services import (
    built_request_ids,
    cycle_documents,
    keep_report,
    report_for,
    settings_for,
)


@shared_task(
    name=BUILD_TASK,
    acks_late=True,  # a task whose worker dies is run again, not lost
    autoretry_for=(DatabaseUnreachable,),
    retry_backoff=True,
    max_retries=3,
)
def build_report_chunk(
    cycle_id: int, request_ids: list[int], rebuilt_since: str | None
) -> list[tuple[int, str | None]]:
    """Build and keep these reports of a closed cycle; each id with None, or why it failed.

    Reports kept already are skipped: any report when rebuilt_since is None, else those
    kept since that moment (by this rebuild).
    """
    since = datetime.fromisoformat(rebuilt_since) if rebuilt_since else None
    cycle = db.session.get_one(Cycle, cycle_id)
    cycle.check_buildable()
    everyone = set(db.session.scalars(db.select(FeedbackRequest.id).filter_by(cycle_id=cycle_id)))
    wanted = set(request_ids) - _kept(cycle, since)
    documents = [
        (feedback_request.id, document)
        for feedback_request, document in cycle_documents(cycle, skip=everyone - wanted)
    ]
    settings = settings_for(cycle)
    # End the reading transaction before rendering: on SQLite it holds the write lock, which
    # the other workers need to keep their reports.
    db.session.rollback()
    failures: dict[int, str] = {}
    for request_id, document in documents:
        try:
            rendered = render_report(document, settings)
        except Exception as error:  # noqa: BLE001 (one broken report must not stop the rest)
            failures[request_id] = describe(error)
            continue
        _keep_once(request_id, document, rendered, since)
    return [(request_id, failures.get(request_id)) for request_id in request_ids]


def _kept(cycle: Cycle, since: datetime | None) -> set[int]:
    if since is None:
        return built_request_ids(cycle)
    kept = db.session.execute(
        db.select(Report.request_id, Report.built_at)
        .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.cycle_id == cycle.id)
    )
    return {request_id for request_id, built_at in kept if built_at >= since}


def _keep_once(
    request_id: int, document: ReportDocument, rendered: Rendered, since: datetime | None
) -> None:
    # The request's row is locked while we look, so two workers never both keep one report.
    feedback_request = db.session.get_one(FeedbackRequest, request_id, with_for_update=True)
    kept = report_for(feedback_request)
    if kept is not None and (since is None or kept.built_at >= since):
        db.session.rollback()
        return
    keep_report(feedback_request, document, rendered)
    db.session.commit()
