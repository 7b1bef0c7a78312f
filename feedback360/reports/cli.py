"""`feedback360 reports`: build a closed cycle's personal reports."""

from __future__ import annotations

import os
from pathlib import Path

import click

from feedback360.audit.services import record
from feedback360.cli import domain_command
from feedback360.cycles.models import Cycle
from feedback360.cycles.report_build import begin_build, finish_build, note_failure
from feedback360.cycles.services import find_cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.building import build_reports, pending_count, write_file
from feedback360.reports.models import Report
from feedback360.reports.services import check_buildable


@click.group(help="Build personal reports.")
def reports() -> None:
    pass


@reports.command(
    "build",
    help="Build the reports of a closed CYCLE (id or name). Each report is kept as soon as it "
    "is built, so an interrupted run can simply be started again: it skips finished reports.",
)
@click.argument("reference", metavar="CYCLE")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write each PDF to this folder, named after the person.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default="one per core",
    help="Worker processes rendering reports (with a Celery broker set, its workers do).",
)
@click.option("--rebuild", is_flag=True, help="Build finished reports again too.")
@domain_command
def build(reference: str, out_dir: Path | None, workers: int, rebuild: bool) -> None:
    cycle = find_cycle(reference)
    check_buildable(cycle)
    begin_build(cycle)  # noted on the cycle, so the dashboard can follow this build
    db.session.commit()
    failures: list[str] = []
    built = 0
    with click.progressbar(
        length=pending_count(cycle, rebuild=rebuild), label=f"Building reports for {cycle.name}"
    ) as bar:
        for outcome in build_reports(cycle, rebuild=rebuild, workers=workers):
            if outcome.report is None:
                failures.append(f"{outcome.subject_name}: {outcome.error}")
                note_failure(cycle, failures[-1])
            else:
                built += 1
            db.session.commit()  # kept now: a later interruption cannot lose it
            bar.update(1)
    finish_build(cycle)
    record("reports.built", f"cycle {cycle.id}", f"{built} built, {len(failures)} failed")
    db.session.commit()
    click.echo(f"Built {built} report(s).")
    if out_dir is not None:
        written = _write_all(cycle, out_dir)
        click.echo(f"Wrote {written} PDF(s) to {out_dir}.")
    if failures:
        raise click.ClickException(
            f"{len(failures)} report(s) could not be built:\n  " + "\n  ".join(failures)
        )


def _write_all(cycle: Cycle, out_dir: Path) -> int:
    """Write every built PDF of the cycle, streaming so memory stays flat."""
    written = 0
    for report in db.session.scalars(
        db.select(Report)
        .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.cycle_id == cycle.id)
        .execution_options(yield_per=50)
    ):
        write_file(out_dir / report.filename, report.pdf)
        written += 1
    return written
