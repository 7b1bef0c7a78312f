"""The task a Celery worker runs for a report build: render one chunk of frozen reports.

The reports were frozen when the build began (see reports.freezing), so a task loads only
its own documents, never the whole cycle. Each report is rendered, then kept and committed
on its own, so a task that dies mid-way leaves every finished report kept and none
half-written; its message is acknowledged only once it has run, and handed to another
worker when its worker dies. A report rendered already is skipped, so a task run twice
renders nothing twice. The chunks are sent, and waited for, by reports.celery_build.
"""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError as DatabaseUnreachable

from feedback360.background import RENDER_TASK
from feedback360.extensions import db
from feedback360.reports.build_steps import describe
from feedback360.reports.models import Report
from feedback360.reports.rendering import keep_rendered, render_frozen
from feedback360.reports.services import settings_for


@shared_task(
    name=RENDER_TASK,
    acks_late=True,  # a task whose worker dies is run again, not lost
    reject_on_worker_lost=True,  # ... by another worker, at once
    autoretry_for=(DatabaseUnreachable,),
    retry_backoff=True,
    max_retries=3,
)
def render_report_chunk(request_ids: list[int]) -> list[tuple[int, str | None]]:
    """Render and keep these frozen reports; each id with None, or why it failed."""
    failures: dict[int, str] = {}
    for request_id in request_ids:
        report = db.session.scalar(db.select(Report).filter_by(request_id=request_id))
        if report is None or report.rendered or report.document is None:
            db.session.rollback()
            continue  # not frozen (a build in another state), or rendered already
        frozen, settings = report.document, settings_for(report.request.cycle)
        # End the reading transaction before rendering: on SQLite it holds the write lock,
        # which the other workers need to keep their reports.
        db.session.rollback()
        try:
            rendered = render_frozen(frozen, settings)
        except Exception as error:  # noqa: BLE001 (one broken report must not stop the rest)
            failures[request_id] = describe(error)
            continue
        keep_rendered(report.id, rendered)
        db.session.commit()
    return [(request_id, failures.get(request_id)) for request_id in request_ids]
