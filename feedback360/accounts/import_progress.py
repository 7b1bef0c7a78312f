"""How far an import job has got, noted in short transactions of its own so that any web
process can follow the job while the job's own transaction is still open.

On SQLite a transaction that writes holds the only write lock until it ends, so nothing
can be noted while the job saves: the job notes that it is saving without a count (an
honest "saving 47,000 people", not a bar that stands still), and counts rows only while
it checks them, before its transaction starts. PostgreSQL has no such lock: there the
saving is counted too.
"""

from __future__ import annotations

import time

from sqlalchemy import update
from sqlalchemy.orm import Session

from feedback360.accounts.models import ImportJob
from feedback360.extensions import db

EVERY_SECONDS = 0.5  # at most two notes a second: the page looks every two seconds


class Progress:
    """Notes a job's phase and rows done; `None` as job id notes nothing (a test, a script)."""

    def __init__(self, job_id: int | None) -> None:
        self.job_id = job_id
        self._last = 0.0
        self._total = 0

    @property
    def counts_while_saving(self) -> bool:
        """Whether a note can be written while the job's own transaction holds its writes."""
        return db.engine.dialect.name != "sqlite"

    def phase(self, phase: str, total: int, *, counted: bool = True) -> None:
        """A new phase over `total` rows, with none done yet (or not counted)."""
        self._total = total
        self._write(phase=phase, total_rows=total, rows_done=0 if counted else None)

    def rows(self, done: int, *, saving: bool = False) -> None:
        """`done` rows of the phase dealt with; written at most every EVERY_SECONDS, and
        when the phase is done."""
        if saving and not self.counts_while_saving:
            return
        if done >= self._total or time.monotonic() - self._last >= EVERY_SECONDS:
            self._write(rows_done=done)

    def _write(self, **values: object) -> None:
        if self.job_id is None:
            return
        self._last = time.monotonic()
        with Session(db.engine) as session:
            session.execute(update(ImportJob).where(ImportJob.id == self.job_id).values(**values))
            session.commit()
