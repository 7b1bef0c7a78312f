"""Report builds on Celery workers: the cycle's unbuilt reports in chunks, one task each.

A worker builds a chunk the way the local build does (the cycle analysed as a whole, each
report rendered, then kept and committed on its own), so a task that dies mid-way leaves
every finished report kept and none half-written. A report kept already is skipped, so a
task run twice (redelivered after its worker died, or a second build) builds nothing twice.
The process that started the build waits for the chunks and hands back each outcome, so the
command line, the dashboard and their progress work the same with Celery as without.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerUnreachable
from sqlalchemy.exc import OperationalError as DatabaseUnreachable

from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.build_steps import Built, describe, render_report
from feedback360.reports.models import Report
from feedback360.reports.results import ReportDocument
from feedback360.reports.services import (
    built_request_ids,
    cycle_documents,
    keep_report,
    report_for,
    settings_for,
)
from feedback360.timeutil import utcnow

if TYPE_CHECKING:
    from celery import Celery
    from celery.result import AsyncResult

log = logging.getLogger(__name__)

BUILD_TASK = "feedback360.build_reports"
POLL_SECONDS = 0.5
MOST_PER_TASK = 50


def reports_per_task(reports: int) -> int:
    """About 40 tasks a build: enough to keep many workers busy, while each task's loading
    of the whole cycle (its norms need every subject) stays small beside its rendering."""
    return max(1, min(MOST_PER_TASK, math.ceil(reports / 40)))


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
        (request.id, document)
        for request, document in cycle_documents(cycle, skip=everyone - wanted)
    ]
    settings = settings_for(cycle)
    # End the reading transaction before rendering: on SQLite it holds the write lock, which
    # the other workers need to keep their reports.
    db.session.rollback()
    failures: dict[int, str] = {}
    for request_id, document in documents:
        try:
            html, pdf = render_report(document, settings)
        except Exception as error:  # noqa: BLE001 (one broken report must not stop the rest)
            failures[request_id] = describe(error)
            continue
        _keep_once(request_id, document, html, pdf, since)
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
    request_id: int, document: ReportDocument, html: str, pdf: bytes, since: datetime | None
) -> None:
    # The request's row is locked while we look, so two workers never both keep one report.
    request = db.session.get_one(FeedbackRequest, request_id, with_for_update=True)
    kept = report_for(request)
    if kept is not None and (since is None or kept.built_at >= since):
        db.session.rollback()
        return
    keep_report(request, document, html, pdf)
    db.session.commit()


def build_on_celery(celery: Celery, cycle: Cycle, *, rebuild: bool) -> Iterator[Built]:
    """Send the cycle's unbuilt reports (all with rebuild) to the workers, chunk by chunk,
    and yield each report's outcome as its chunk finishes."""
    request_ids = list(
        db.session.scalars(
            db.select(FeedbackRequest.id).filter_by(cycle_id=cycle.id).order_by(FeedbackRequest.id)
        )
    )
    if not rebuild:
        built = built_request_ids(cycle)
        request_ids = [request_id for request_id in request_ids if request_id not in built]
    since = utcnow().isoformat() if rebuild else None
    size = reports_per_task(len(request_ids))
    chunks = [request_ids[at : at + size] for at in range(0, len(request_ids), size)]
    cycle_id = cycle.id
    db.session.commit()  # hold no transaction (SQLite: no write lock) while the workers write
    try:
        with celery.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1)  # fail fast, not after the retries below
        waiting = {
            celery.send_task(BUILD_TASK, args=[cycle_id, chunk, since]): chunk for chunk in chunks
        }
    except (BrokerUnreachable, RuntimeError) as error:  # RuntimeError: the result store
        log.warning("The task queue cannot be reached: %s", error)
        raise DomainError(
            "The task queue (CELERY_BROKER_URL) cannot be reached, so the reports could not "
            "be handed to the workers. Reports kept so far stay; start the build again once "
            "it is back."
        ) from error
    while waiting:
        finished = [result for result in waiting if result.ready()]
        for result in finished:
            yield from _outcomes(result, waiting.pop(result), since)
        if waiting and not finished:
            if db.session().in_transaction():
                db.session.commit()  # the caller's reads too must not block the workers
            time.sleep(POLL_SECONDS)


def _outcomes(result: AsyncResult, chunk: list[int], since: str | None) -> Iterator[Built]:
    """Each report of a finished chunk: kept, or why not. When the whole task failed (its
    worker died, say), the reports it kept before are kept all the same."""
    try:
        failures = dict(result.get(timeout=10))
        task_failure = None
    except Exception as error:  # noqa: BLE001 (the whole task failed: say why for each report)
        failures, task_failure = {}, describe(error)
    finally:
        result.forget()
    kept_since = datetime.fromisoformat(since) if since else None
    for request_id in chunk:
        request = db.session.get_one(FeedbackRequest, request_id)
        report = report_for(request)
        if report is not None and kept_since and report.built_at < kept_since:
            report = None  # built before this rebuild
        failure = failures.get(request_id) or (None if report else task_failure)
        if failure is None and report is None:
            failure = "the worker finished without keeping this report"
        yield Built(request_id, request.subject.name, None if failure else report, failure)
