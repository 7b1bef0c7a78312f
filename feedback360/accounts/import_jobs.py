"""Import jobs: a staff list kept after quick checks, to be imported by a process of its own
(see import_job_run), and what its page shows of it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

from feedback360.accounts.csv_reading import read_table
from feedback360.accounts.models import QUEUED, RUNNING, ImportJob, Person
from feedback360.accounts.welcome_mails import SET_PASSWORD
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.mailing.models import FAILED, PENDING, SENT, SKIPPED, QueuedMail


class ImportUnderWay(DomainError):
    """Another import is being run: two at once would each check the list without the other."""

    def __init__(self, job: ImportJob) -> None:
        super().__init__("Another import is under way; its page shows how far it has got.")
        self.job = job


def create_import_job(
    data: bytes, filename: str, *, full_list: bool, acting: Person | None
) -> ImportJob:
    """Keep a readable staff list as a queued job; ImportRefused if it is not one at all.

    Only what the whole file shows is checked here (its type, size, encoding, headings, and
    that it lists someone); the job checks each row.
    """
    under_way = import_under_way()
    if under_way is not None:
        raise ImportUnderWay(under_way)
    table = read_table(data, filename)
    job = ImportJob(
        file_name=filename[:255],
        file_data=data,
        full_list=full_list,
        started_by=acting,
        total_rows=len(table.records),
        ignored_headings=table.ignored_headings,
    )
    db.session.add(job)
    db.session.flush()
    return job


def import_under_way() -> ImportJob | None:
    """The import waiting for its process or being run, if any (stopped ones do not count)."""
    waiting = db.session.scalars(
        db.select(ImportJob).where(ImportJob.state.in_((QUEUED, RUNNING))).order_by(ImportJob.id)
    )
    return next((job for job in waiting if job.under_way), None)


def start_again(job: ImportJob) -> None:
    """A stopped job waits for a new process, with the file it kept."""
    under_way = import_under_way()
    if under_way is not None and under_way.id != job.id:
        raise ImportUnderWay(under_way)
    job.start_again()


def discard(job: ImportJob) -> None:
    """A stopped job is given up: its file is wiped, nothing was saved."""
    if not job.stopped:
        raise DomainError("Only an import that stopped can be discarded.")
    job.failed("It stopped, and was discarded.")


@dataclass(frozen=True)
class MailProgress:
    """Of the set-password mail a job queued: how many went, failed, were not needed, wait."""

    queued: int
    sent: int
    failed: int
    skipped: int
    waiting: int

    @property
    def handled(self) -> int:
        return self.queued - self.waiting


def mail_progress(job: ImportJob) -> MailProgress:
    """Read from the mail queue itself, so mail sent later by the retry counts too."""
    if job.first_mail_id is None or job.last_mail_id is None:
        return MailProgress(0, 0, 0, 0, 0)
    counts = dict(
        db.session.execute(
            db.select(QueuedMail.status, func.count())
            .where(QueuedMail.id.between(job.first_mail_id, job.last_mail_id))
            .where(QueuedMail.kind == SET_PASSWORD)
            .group_by(QueuedMail.status)
        ).all()
    )
    return MailProgress(
        job.mails_queued,
        sent=counts.get(SENT, 0),
        failed=counts.get(FAILED, 0),
        skipped=counts.get(SKIPPED, 0),
        waiting=counts.get(PENDING, 0),
    )
