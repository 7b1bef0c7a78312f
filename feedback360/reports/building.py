"""Building a closed cycle's reports: the one path that the command line and the dashboard
(through the command line, in a process of its own; see background_build) both take.

A build first freezes the reports (the cycle analysed once, each report's document kept;
see freezing), after which they can be released, then renders them. It is restartable:
each report is kept and committed as soon as it is rendered, so an interrupted build keeps
what it finished and the next one does only the rest. One report that fails is noted on
the cycle, not fatal to the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from feedback360.audit.services import record
from feedback360.background import celery_app
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.reports.build_steps import Built
from feedback360.reports.freezing import freeze_cycle
from feedback360.reports.local_build import render_locally
from feedback360.reports.models import Report


@dataclass
class BuildSummary:
    """What a build made: how many reports, and why each of the others could not be built."""

    built: int = 0
    failures: list[str] = field(default_factory=list)


def build_cycle(
    cycle: Cycle,
    *,
    rebuild: bool = False,
    workers: int = 1,
    on_each: Callable[[Built], object] = lambda built: None,
) -> BuildSummary:
    """Freeze the cycle's reports not frozen yet (all with rebuild), then render those not
    rendered, noting the build on the cycle as it goes; on_each is told of each report once
    it is committed. Once released, a build only renders: what the reports show is final."""
    render_only = cycle.released_to_coaches
    if render_only and rebuild:
        cycle.check_buildable()  # refused: a released report never changes
    cycle.build_started(os.getpid(), render_only=render_only)
    db.session.commit()  # the dashboard shows the build from now on
    if not render_only:
        freeze_cycle(cycle, rebuild=rebuild)
        db.session.commit()  # the reports can be released from now on
    summary = BuildSummary()
    for outcome in render_reports(cycle, workers=workers):
        if outcome.report is None:
            summary.failures.append(f"{outcome.subject_name}: {outcome.error}")
            cycle.report_failed(summary.failures[-1])
        else:
            summary.built += 1
        db.session.commit()  # kept now: a later interruption cannot lose it
        on_each(outcome)
    cycle.build_finished()
    failed = len(summary.failures)
    record("reports.built", f"cycle {cycle.id}", f"{summary.built} built, {failed} failed")
    db.session.commit()
    return summary


def render_reports(cycle: Cycle, *, workers: int = 1) -> Iterator[Built]:
    """The one choice of where frozen reports are rendered: on the Celery workers when a
    broker is configured (workers is then theirs to set), else here, in a pool of `workers`
    processes or in this process for one. Each report is yielded once kept; the caller
    commits."""
    cycle.check_renderable()
    celery = celery_app()
    if celery is None:
        return render_locally(cycle, workers=workers)
    from feedback360.reports.celery_build import render_on_celery  # imports Celery, so only now

    return render_on_celery(celery, cycle)


def build_cycle_reports(cycle: Cycle) -> list[Report]:
    """Freeze and render every report not built yet inside the caller's transaction, for the
    demo and tests: nothing is noted on the cycle, and the first failure is raised."""
    freeze_cycle(cycle)
    reports = []
    for built in render_reports(cycle):
        if built.report is None:
            raise DomainError(f"The report for {built.subject_name} failed: {built.error}")
        reports.append(built.report)
    return reports
