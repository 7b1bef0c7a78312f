"""Rendering a cycle's frozen reports on this machine: in this process, or in a pool."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import partial

from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.reports.build_steps import Built, Rendered, describe
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.models import Report
from feedback360.reports.rendering import (
    Unrendered,
    frozen_document,
    keep_rendered,
    render_frozen,
    unrendered,
)
from feedback360.reports.services import settings_for

# A worker is replaced after this many reports, so a slow leak cannot grow without end.
REPORTS_PER_WORKER = 100


def render_locally(cycle: Cycle, *, workers: int) -> Iterator[Built]:
    """Render the cycle's frozen reports not rendered yet, yielding each once kept; with
    more than one worker, in a pool of that many processes."""
    pending = unrendered(cycle)
    settings = settings_for(cycle)
    if workers <= 1:
        for item in pending:
            frozen = frozen_document(item.report_id)
            yield _kept(item, partial(render_frozen, frozen, settings))
    else:
        yield from _render_in_pool(pending, settings, workers)


def _render_in_pool(
    pending: list[Unrendered], settings: CycleSettings, workers: int
) -> Iterator[Built]:
    context = multiprocessing.get_context("spawn")  # no inherited database connections
    with ProcessPoolExecutor(
        workers, mp_context=context, max_tasks_per_child=REPORTS_PER_WORKER
    ) as pool:
        in_flight: dict[Future[Rendered], Unrendered] = {}
        for item in pending:
            frozen = frozen_document(item.report_id)
            in_flight[pool.submit(render_frozen, frozen, settings)] = item
            # A bounded queue keeps memory flat however large the cycle is.
            if len(in_flight) >= workers * 4:
                yield from _collect_finished(in_flight)
        while in_flight:
            yield from _collect_finished(in_flight)


def _collect_finished(in_flight: dict[Future[Rendered], Unrendered]) -> Iterator[Built]:
    """Wait for at least one render to finish; keep each finished one."""
    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
    for future in done:
        yield _kept(in_flight.pop(future), future.result)


def _kept(item: Unrendered, render: Callable[[], Rendered]) -> Built:
    """Keep the rendered report, or say why it could not be rendered."""
    try:
        rendered = render()
    except Exception as error:  # noqa: BLE001 (one broken report must not stop the rest)
        return Built(item.request_id, item.subject_name, None, describe(error))
    keep_rendered(item.report_id, rendered)
    return Built(item.request_id, item.subject_name, db.session.get_one(Report, item.report_id))
