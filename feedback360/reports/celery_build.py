"""Rendering on Celery workers: the cycle's unrendered reports sent in chunks, one task each.

The tasks (feedback360.tasks.reports) are sent by name and waited for here, and each
report's outcome is handed back as it comes, so the command line, the dashboard and their
progress work the same with Celery as with a local build.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kombu.exceptions import OperationalError as BrokerUnreachable

from feedback360.background import RENDER_TASK
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.build_steps import Built, describe
from feedback360.reports.rendering import unrendered
from feedback360.reports.services import report_for

if TYPE_CHECKING:
    from celery import Celery
    from celery.result import AsyncResult

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
MOST_PER_TASK = 10


def reports_per_task(reports: int) -> int:
    """Small chunks, so that every worker keeps busy to the end: a task loads only its own
    frozen documents, so a chunk costs nothing beyond its renders."""
    return max(1, min(MOST_PER_TASK, math.ceil(reports / 40)))


def render_on_celery(celery: Celery, cycle: Cycle) -> Iterator[Built]:
    """Send the cycle's unrendered reports to the workers, chunk by chunk, and yield each
    report's outcome as its chunk finishes."""
    request_ids = [item.request_id for item in unrendered(cycle)]
    size = reports_per_task(len(request_ids))
    chunks = [request_ids[at : at + size] for at in range(0, len(request_ids), size)]
    db.session.commit()  # hold no transaction (SQLite: no write lock) while the workers write
    try:
        with celery.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1)  # fail fast, not after the retries below
        waiting = {celery.send_task(RENDER_TASK, args=[chunk]): chunk for chunk in chunks}
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
            yield from _outcomes(result, waiting.pop(result))
        if waiting and not finished:
            if db.session().in_transaction():
                db.session.commit()  # the caller's reads too must not block the workers
            time.sleep(POLL_SECONDS)


def _outcomes(result: AsyncResult, chunk: list[int]) -> Iterator[Built]:
    """Each report of a finished chunk: kept, or why not. When the whole task failed (its
    worker died, say), the reports it kept before are kept all the same."""
    try:
        failures = dict(result.get(timeout=10))
        task_failure = None
    except Exception as error:  # noqa: BLE001 (the whole task failed: say why for each report)
        failures, task_failure = {}, describe(error)
    finally:
        result.forget()
    for request_id in chunk:
        feedback_request = db.session.get_one(FeedbackRequest, request_id)
        report = report_for(feedback_request)
        if report is not None and not report.rendered:
            report = None
        failure = failures.get(request_id) or (None if report else task_failure)
        if failure is None and report is None:
            failure = "the worker finished without keeping this report"
        yield Built(request_id, feedback_request.subject.name, None if failure else report, failure)
