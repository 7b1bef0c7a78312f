"""Building a cycle's reports on this machine: in this process, or in a pool of processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import partial

from feedback360.cycles.models import Cycle
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.build_steps import Built, Rendered, describe, render_report
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.results import ReportDocument
from feedback360.reports.services import (
    built_request_ids,
    cycle_documents,
    keep_report,
    settings_for,
)

# A worker is replaced after this many reports, so a slow leak cannot grow without end.
REPORTS_PER_WORKER = 100

Documents = Iterable[tuple[FeedbackRequest, ReportDocument]]


def build_locally(cycle: Cycle, *, rebuild: bool, workers: int) -> Iterator[Built]:
    """Build the reports not built yet (all with rebuild), yielding each once kept; with
    more than one worker, rendered in a pool of that many processes."""
    skip = set() if rebuild else built_request_ids(cycle)
    documents = cycle_documents(cycle, skip=skip)
    settings = settings_for(cycle)
    if workers <= 1:
        for feedback_request, document in documents:
            yield _kept(feedback_request, document, partial(render_report, document, settings))
    else:
        yield from _build_in_pool(documents, settings, workers)


def _build_in_pool(documents: Documents, settings: CycleSettings, workers: int) -> Iterator[Built]:
    context = multiprocessing.get_context("spawn")  # no inherited database connections
    with ProcessPoolExecutor(
        workers, mp_context=context, max_tasks_per_child=REPORTS_PER_WORKER
    ) as pool:
        in_flight: dict[Future[Rendered], tuple[FeedbackRequest, ReportDocument]] = {}
        for feedback_request, document in documents:
            in_flight[pool.submit(render_report, document, settings)] = (feedback_request, document)
            # A bounded queue keeps memory flat however large the cycle is.
            if len(in_flight) >= workers * 4:
                yield from _collect_finished(in_flight)
        while in_flight:
            yield from _collect_finished(in_flight)


def _collect_finished(
    in_flight: dict[Future[Rendered], tuple[FeedbackRequest, ReportDocument]],
) -> Iterator[Built]:
    """Wait for at least one render to finish; keep each finished one."""
    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
    for future in done:
        feedback_request, document = in_flight.pop(future)
        yield _kept(feedback_request, document, future.result)


def _kept(
    feedback_request: FeedbackRequest,
    document: ReportDocument,
    render: Callable[[], Rendered],
) -> Built:
    """Keep the rendered report, or say why it could not be rendered."""
    try:
        rendered = render()
    except Exception as error:  # noqa: BLE001 (one broken report must not stop the rest)
        return Built(feedback_request.id, feedback_request.subject.name, None, describe(error))
    return Built(
        feedback_request.id,
        feedback_request.subject.name,
        keep_report(feedback_request, document, rendered),
    )
