"""Opening and closing cycles on their dates, for a daily cron job; and what a close sets
going at once: the build that freezes the reports, then renders them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement

from feedback360.closing import close_cycle
from feedback360.cycles.models import DRAFT, OPEN, Cycle
from feedback360.cycles.services import open_cycle
from feedback360.extensions import db
from feedback360.reports.background_build import start_build_in_background
from feedback360.reports.build_progress import pending_count
from feedback360.timeutil import long_date


def tick(today: date) -> list[str]:
    """Open draft cycles whose opening date has come and close open cycles whose closing
    date has passed; say what was done. Running it again the same day does nothing more."""
    done: list[str] = []
    # Closing first: a cycle opened today must not be closed by the same run.
    for cycle in _cycles(OPEN, Cycle.closes_on < today):
        close_and_build(cycle, by_date=True)
        done.append(f"Closed “{cycle.name}” (it closed on {long_date(cycle.closes_on)}).")
    for cycle in _cycles(DRAFT, Cycle.opens_on <= today):
        if cycle.closes_on is not None and cycle.closes_on < today:
            # Opening would give raters no time at all; the administrator must choose new dates.
            done.append(
                f"Did not open “{cycle.name}”: its closing date, {long_date(cycle.closes_on)}, "
                "has passed. Change its dates."
            )
            continue
        open_cycle(cycle, by_date=True)
        done.append(f"Opened “{cycle.name}” (it opens on {long_date(cycle.opens_on)}).")
    db.session.flush()
    return done


def _cycles(status: str, due: ColumnElement[bool]) -> list[Cycle]:
    return list(
        db.session.scalars(db.select(Cycle).where(Cycle.status == status, due).order_by(Cycle.id))
    )


def close_and_build(cycle: Cycle, *, by_date: bool = False) -> None:
    """Close the cycle, commit, and start building its reports in a process of their own:
    the build freezes them first (they can be released minutes later, whatever the size of
    the cycle), then makes their pages and PDFs in the background."""
    close_cycle(cycle, by_date=by_date)
    db.session.commit()  # the build's process must find the cycle closed
    if pending_count(cycle):
        start_build_in_background(cycle)
