"""`feedback360 reports`: build a closed cycle's personal reports."""

from __future__ import annotations

import os
from pathlib import Path

import click

from feedback360.commands import domain_command
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import find_cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.build_progress import pending_count
from feedback360.reports.building import build_cycle
from feedback360.reports.freezing import freeze_cycle
from feedback360.reports.models import Report
from feedback360.wording import counted


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
    # Refused before the progress bar is drawn; once released, a build only renders.
    cycle.check_build_can_start(os.getpid(), render_only=cycle.released_to_coaches)
    with click.progressbar(
        length=pending_count(cycle, rebuild=rebuild), label=f"Building reports for {cycle.name}"
    ) as bar:
        summary = build_cycle(
            cycle, rebuild=rebuild, workers=workers, on_each=lambda _built: bar.update(1)
        )
    click.echo(f"Built {counted(summary.built, 'report')}.")
    if out_dir is not None:
        written = _write_all(cycle, out_dir)
        click.echo(f"Wrote {counted(written, 'PDF')} to {out_dir}.")
    if summary.failures:
        raise click.ClickException(
            f"{counted(len(summary.failures), 'report')} could not be built:\n  "
            + "\n  ".join(summary.failures)
        )


@reports.command(
    "freeze",
    help="Analyse a closed CYCLE (id or name) once and keep what each report shows, so the "
    "reports can be released at once; `reports build` then makes their pages and PDFs.",
)
@click.argument("reference", metavar="CYCLE")
@domain_command
def freeze(reference: str) -> None:
    cycle = find_cycle(reference)
    frozen = freeze_cycle(cycle)
    db.session.commit()
    click.echo(f"Froze {counted(frozen, 'report')}; they can be released now.")


def _write_all(cycle: Cycle, out_dir: Path) -> int:
    """Write every built PDF of the cycle, streaming so memory stays flat."""
    written = 0
    for report in db.session.scalars(
        db.select(Report)
        .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.cycle_id == cycle.id, Report.pdf.is_not(None))
        .execution_options(yield_per=50)
    ):
        _write_file(out_dir / report.filename, report.pdf)
        written += 1
    return written


def _write_file(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so no reader ever sees half a PDF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
