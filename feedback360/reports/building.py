"""Building a cycle's reports: restartable, one kept at a time, rendered in worker processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.inputs import CycleSettings
from feedback360.reports.models import Report
from feedback360.reports.render import report_html, report_pdf
from feedback360.reports.results import ReportDocument
from feedback360.reports.services import (
    check_buildable,
    cycle_documents,
    keep_report,
    settings_for,
)
from feedback360.tasks import celery_app

# A worker is replaced after this many reports, so a slow leak cannot grow without end.
REPORTS_PER_WORKER = 100


@dataclass(frozen=True)
class Built:
    """One request's outcome: its stored report, or why it could not be built."""

    request_id: int
    subject_name: str
    report: Report | None
    error: str | None = None


def render(document: ReportDocument, settings: CycleSettings) -> tuple[str, bytes]:
    """The report's browser page and PDF; pure, so it can run in another process."""
    html = report_html(document, pdf_url="report.pdf", settings=settings)
    return html, report_pdf(document, settings=settings)


def built_request_ids(cycle: Cycle) -> set[int]:
    return set(
        db.session.execute(
            db.select(Report.request_id)
            .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
            .where(FeedbackRequest.cycle_id == cycle.id)
        ).scalars()
    )


def pending_count(cycle: Cycle, *, rebuild: bool = False) -> int:
    total = db.session.scalar(
        db.select(db.func.count()).select_from(FeedbackRequest).filter_by(cycle_id=cycle.id)
    )
    return int(total or 0) - (0 if rebuild else len(built_request_ids(cycle)))


def build_reports(cycle: Cycle, *, rebuild: bool = False, workers: int = 1) -> Iterator[Built]:
    """Build the cycle's reports not built yet (all with rebuild), yielding each when kept.

    The caller commits after each one, so an interrupted build keeps what it finished and a
    second run does only the rest. A report that fails is reported, not fatal to the others.
    With a Celery broker configured the reports are built and kept by its workers (workers
    is then theirs to set); otherwise here, or in a local pool of worker processes.
    """
    check_buildable(cycle)
    celery = celery_app()
    if celery is not None:
        from feedback360.tasks.reports import build_on_celery  # imports Celery, so only now

        yield from build_on_celery(celery, cycle, rebuild=rebuild)
        return
    skip = set() if rebuild else built_request_ids(cycle)
    documents = cycle_documents(cycle, skip=skip)
    settings = settings_for(cycle)
    if workers <= 1:
        for request, document in documents:
            try:
                html, pdf = render(document, settings)
            except Exception as error:  # noqa: BLE001 (one broken report must not stop the rest)
                yield Built(request.id, request.subject.name, None, describe(error))
                continue
            yield Built(request.id, request.subject.name, keep_report(request, document, html, pdf))
        return
    yield from _build_in_workers(documents, settings, workers)


def _build_in_workers(documents, settings: CycleSettings, workers: int) -> Iterator[Built]:  # type: ignore[no-untyped-def]
    context = multiprocessing.get_context("spawn")  # no inherited database connections
    with ProcessPoolExecutor(
        workers, mp_context=context, max_tasks_per_child=REPORTS_PER_WORKER
    ) as pool:
        in_flight: dict[Future[tuple[str, bytes]], tuple[FeedbackRequest, ReportDocument]] = {}
        for request, document in documents:
            in_flight[pool.submit(render, document, settings)] = (request, document)
            # A bounded queue keeps memory flat however large the cycle is.
            if len(in_flight) >= workers * 4:
                yield from _collect_finished(in_flight)
        while in_flight:
            yield from _collect_finished(in_flight)


def _collect_finished(in_flight) -> Iterator[Built]:  # type: ignore[no-untyped-def]
    """Wait for at least one render to finish; keep each finished one."""
    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
    for future in done:
        request, document = in_flight.pop(future)
        try:
            html, pdf = future.result()
        except Exception as error:  # noqa: BLE001 (one broken report must not stop the rest)
            yield Built(request.id, request.subject.name, None, describe(error))
            continue
        yield Built(request.id, request.subject.name, keep_report(request, document, html, pdf))


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def write_file(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so no reader ever sees half a PDF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def build_cycle_reports(cycle: Cycle, out_dir: Path | None = None) -> list[Report]:
    """Build every report not built yet in this process; with out_dir, write each PDF."""
    reports = []
    for built in build_reports(cycle):
        if built.report is None:
            raise DomainError(f"The report for {built.subject_name} failed: {built.error}")
        reports.append(built.report)
        if out_dir is not None:
            write_file(out_dir / built.report.filename, built.report.pdf)
    return reports
