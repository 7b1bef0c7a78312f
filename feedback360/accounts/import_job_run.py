"""Running an import job to its end in this process: refused, failed, or saved and then
its set-password mail sent.

All or nothing, as an import always was: the people and their queued mail are saved in one
transaction, with the job marked done in it. A process that dies before that commit saves
nothing and leaves the job stopped, with its file, to be started again. The mail goes only
after the commit; if the process dies while sending, the rest stays queued for the retry.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from feedback360.accounts.csv_reading import ImportRefused
from feedback360.accounts.import_progress import Progress
from feedback360.accounts.importing import ImportOutcome, import_people
from feedback360.accounts.models import ImportJob
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.mailing.services import deliver

log = logging.getLogger(__name__)


def run_import_job(job_id: int) -> ImportJob:
    """Take the queued job and run it here; DomainError if it is not waiting to be run."""
    job = db.session.get(ImportJob, job_id, with_for_update=True)
    if job is None:
        raise DomainError(f"There is no import {job_id}.")
    job.begin(os.getpid())
    data, filename = job.file_data or b"", job.file_name
    full_list, acting_id = job.full_list, job.started_by_id
    db.session.commit()  # taken; and no transaction is open while the rows are checked
    try:
        outcome = import_people(
            data, filename, full_list=full_list, acting_id=acting_id, progress=Progress(job_id)
        )
    except ImportRefused as refused:
        db.session.rollback()
        problems = refused.problems
        return _end(job_id, lambda job: job.refused(problems))
    except Exception as error:
        db.session.rollback()
        log.exception("Import %s failed", job_id)
        # The class only: a database's message may quote a row of the list.
        reason = f"It stopped on an error ({type(error).__name__}); nothing was saved."
        _end(job_id, lambda job: job.failed(reason))
        raise
    job = _end(job_id, lambda job: job.succeeded(outcome.summary(), outcome.mail_ids))
    _send(job, outcome)
    return job


def _end(job_id: int, change: Callable[[ImportJob], None]) -> ImportJob:
    """Note the job's end in the current transaction (the import's own, when it saved)."""
    job = db.session.get_one(ImportJob, job_id)
    change(job)
    db.session.commit()
    return job


def _send(job: ImportJob, outcome: ImportOutcome) -> None:
    """Hand the committed mail to the mail server, then note that it has gone."""
    if outcome.mail_ids:
        deliver(outcome.mail_ids)
    job.mailed()
    db.session.commit()
