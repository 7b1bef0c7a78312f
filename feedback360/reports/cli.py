"""`feedback360 reports`: build a closed cycle's personal reports."""

from __future__ import annotations

from pathlib import Path

import click

from feedback360.cli import domain_command
from feedback360.cycles.services import find_cycle
from feedback360.reports.services import build_cycle_reports


@click.group(help="Build personal reports.")
def reports() -> None:
    pass


@reports.command("build", help="Build every report of a closed CYCLE (id or name).")
@click.argument("reference", metavar="CYCLE")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write each PDF to this folder, named after the person.",
)
@domain_command
def build(reference: str, out_dir: Path | None) -> None:
    built = build_cycle_reports(find_cycle(reference), out_dir)
    click.echo(f"Built {len(built)} report(s).")
    for report in built:
        click.echo(f"  {out_dir / report.filename if out_dir else report.filename}")
