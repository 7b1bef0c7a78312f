"""Freezing a closed cycle's reports: the whole cycle analysed once, and each report's
document (everything it shows) kept in the database, before any page or PDF is made.

Releasing needs only the frozen documents: rendering them is a pure function of each
document, done afterwards by workers or for the first reader, and the same whenever it runs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import delete, insert

from feedback360.audit.services import record
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.groups import ALL_RATERS
from feedback360.reports.frozen import freeze_document
from feedback360.reports.models import Report
from feedback360.reports.services import (
    AnalysedCycle,
    analysed_cycle,
    built_request_ids,
    document_of,
    filename_for,
)
from feedback360.timeutil import utcnow
from feedback360.wording import counted

_ROWS_PER_INSERT = 500  # frozen documents are about 4 kB each
# Below this many subjects the documents are made here: a worker costs more to start.
_WORTH_A_POOL = 2_000
_PER_TASK = 250

Row = dict[str, object]
Named = tuple[str, datetime]  # the cycle's name, and when it is frozen


def freeze_cycle(cycle: Cycle, *, rebuild: bool = False, workers: int | None = None) -> int:
    """Keep the document of every report of the closed cycle not frozen yet (of every one,
    made afresh, with rebuild), in the caller's transaction; how many were frozen.

    The documents of a large cycle are made by `workers` forked processes (one per core by
    default), each with the cycle's analysis as it stood at the fork; they never touch the
    database, and this process writes what they return.
    """
    cycle.check_buildable()
    if rebuild:
        in_cycle = db.select(FeedbackRequest.id).filter_by(cycle_id=cycle.id)
        db.session.execute(
            delete(Report).where(Report.request_id.in_(in_cycle)),
            execution_options={"synchronize_session": False},
        )
    skip = built_request_ids(cycle)
    everyone = db.session.scalar(
        db.select(db.func.count()).select_from(FeedbackRequest).filter_by(cycle_id=cycle.id)
    )
    if len(skip) == everyone:
        return 0  # frozen already: no analysis at all
    analysed = analysed_cycle(cycle)
    wanted = [n for n, request_id in enumerate(analysed.request_ids) if request_id not in skip]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(wanted) >= _WORTH_A_POOL else 1
    frozen, rows = 0, []
    for row in _frozen_rows(analysed, wanted, workers, (cycle.name, utcnow())):
        rows.append(row)
        if len(rows) == _ROWS_PER_INSERT:
            frozen += _insert(rows)
    frozen += _insert(rows)
    if frozen:
        record("reports.frozen", f"cycle {cycle.id}", counted(frozen, "report"))
    return frozen


def _frozen_rows(
    analysed: AnalysedCycle, wanted: list[int], workers: int, named: Named
) -> Iterator[Row]:
    if workers <= 1:
        yield from _rows(analysed, wanted, named)
        return
    global _FORKED  # noqa: PLW0603 (what the forked workers read; set only around the pool)
    _FORKED = (analysed, named)
    try:
        # Forked, so each worker has the analysis without copying it: the workers only
        # compute, and leave the database connections they inherit alone.
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            chunks = [wanted[at : at + _PER_TASK] for at in range(0, len(wanted), _PER_TASK)]
            for chunk_rows in pool.imap(_rows_in_worker, chunks):
                yield from chunk_rows
    finally:
        _FORKED = None


_FORKED: tuple[AnalysedCycle, Named] | None = None


def _rows_in_worker(subjects: list[int]) -> list[Row]:
    assert _FORKED is not None  # noqa: S101 (set before the pool forks)
    analysed, named = _FORKED
    return list(_rows(analysed, subjects, named))


def _rows(analysed: AnalysedCycle, subjects: Sequence[int], named: Named) -> Iterator[Row]:
    cycle_name, frozen_at = named
    for subject in subjects:
        document = document_of(analysed, subject)
        yield {
            "request_id": analysed.request_ids[subject],
            "filename": filename_for(document.subject_name, cycle_name),
            "document": freeze_document(document),
            "value_scores": [value.scores.get(ALL_RATERS) for value in document.result.values],
            "built_at": frozen_at,
        }


def _insert(rows: list[Row]) -> int:
    if rows:
        db.session.execute(insert(Report), rows)
    count = len(rows)
    rows.clear()
    return count
