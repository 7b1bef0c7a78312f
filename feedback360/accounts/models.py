"""A person: a member of staff who may also be a coach or an administrator; and a staff
list being imported in the background."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.accounts.passwords import hash_password, password_matches
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.timeutil import utcnow

ERASED_NAME = "Erased person"


class Person(UserMixin, db.Model):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    staff_type: Mapped[str | None] = mapped_column(String(100))
    business_unit: Mapped[str | None] = mapped_column(String(200))
    line_manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_coach: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Raised to end every session of the person at once (deactivation, erasure).
    session_epoch: Mapped[int] = mapped_column(default=0)
    # A one-time "set your password" link: only its hash is kept (see accounts.activation).
    password_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_token_expires_at: Mapped[datetime | None]
    # The single sign-on provider's `sub` for them, linked at their first sign-in through
    # it: later sign-ins match on it, since an email address can change hands.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Their second factor (accounts.second_factor): the authenticator app's secret, the
    # last time step a code was used for (each code works once), and the hashes of the
    # recovery codes not used yet, space-separated.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_code_hashes: Mapped[str | None] = mapped_column(Text)
    # Set when the person's data was erased on request; the row stays, anonymised.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    line_manager: Mapped[Person | None] = relationship(
        remote_side=[id], foreign_keys=[line_manager_id]
    )
    coach: Mapped[Person | None] = relationship(remote_side=[id], foreign_keys=[coach_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive people
        return self.active

    def get_id(self) -> str:
        """The session's key: a session from before the last epoch no longer signs anyone in."""
        return f"{self.id}:{self.session_epoch}"

    def end_sessions(self) -> None:
        self.session_epoch += 1

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def deactivate(self) -> None:
        """Stop them signing in, now and from every open session; their history stays."""
        if not self.active:
            raise DomainError(f"{self.name} is already deactivated.")
        self.active = False
        self.password_token_hash = None
        self.password_token_expires_at = None
        self.end_sessions()

    def reactivate(self) -> None:
        if self.is_erased:
            raise DomainError("This person’s data was erased; the account cannot be used again.")
        if self.active:
            raise DomainError(f"{self.name} is already active.")
        self.active = True

    @property
    def first_name(self) -> str:
        return first_name_of(self.name)

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"


# An import job's states. Queued and running jobs hold the uploaded file; the others have
# wiped it. A queued or running job whose process has died is shown as stopped.
QUEUED, RUNNING, SUCCEEDED, REFUSED, FAILED = "queued", "running", "succeeded", "refused", "failed"
STATE_WORDS = {
    QUEUED: "waiting to start",
    RUNNING: "running",
    SUCCEEDED: "finished",
    REFUSED: "refused",
    FAILED: "stopped",
}
# What a running job is doing, for its progress bar.
CHECKING, SAVING, QUEUING = "checking", "saving", "queuing"
# A job queued this long ago that no process has taken was left by a web process that died.
WAIT_FOR_PROCESS = timedelta(minutes=10)


class ImportJob(db.Model):
    """A staff list imported by a process of its own: its file until the job ends, then what
    came of it. Only the job's methods change its state (progress is noted apart)."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), default="people")
    state: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    phase: Mapped[str] = mapped_column(String(20), default="")
    total_rows: Mapped[int] = mapped_column(default=0)
    # How many rows the phase has dealt with; None while it cannot say (see import_progress).
    rows_done: Mapped[int | None]
    file_name: Mapped[str] = mapped_column(String(255), default="")
    # The staff list as uploaded: personal data, so it is wiped as the job ends.
    file_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    full_list: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    ignored_headings: Mapped[list[str]] = mapped_column(JSON, default=list)
    failure: Mapped[str] = mapped_column(Text, default="")
    # The set-password mail the job queued: ids first to last (one import runs at a time).
    mails_queued: Mapped[int] = mapped_column(default=0)
    first_mail_id: Mapped[int | None]
    last_mail_id: Mapped[int | None]
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]  # saved, refused or failed
    mailed_at: Mapped[datetime | None]  # its mail handed to the mail server
    # The process that runs (or was started to run) the job, to tell a dead one.
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))

    started_by: Mapped[Person | None] = relationship()

    @property
    def under_way(self) -> bool:
        """Waiting for its process or being run, and not stopped."""
        return self.state in (QUEUED, RUNNING) and not self.stopped

    @property
    def stopped(self) -> bool:
        """Its process died before the job ended: nothing was saved, and it can start again."""
        return self.state in (QUEUED, RUNNING) and not self._process_alive()

    @property
    def sending(self) -> bool:
        """Saved, and its process is still handing the mail to the mail server."""
        return self._saved_not_mailed() and self._process_alive()

    @property
    def sending_stopped(self) -> bool:
        """Saved, but its process died while sending: the rest wait for the mail retry."""
        return self._saved_not_mailed() and not self._process_alive()

    def _saved_not_mailed(self) -> bool:
        return self.state == SUCCEEDED and self.mails_queued > 0 and self.mailed_at is None

    def handed_to(self, pid: int) -> None:
        """The process started to run the job, unless it has taken the job already."""
        if self.state == QUEUED and self.pid is None:
            self.pid, self.host = pid, socket.gethostname()

    def begin(self, pid: int) -> None:
        """Its process takes it: refused if another has, or if it has ended."""
        self._check(QUEUED)
        if self.pid is not None and self.pid != pid and self._process_alive():
            raise DomainError("Another process is running this import.")
        self.state, self.started_at = RUNNING, utcnow()
        self.pid, self.host = pid, socket.gethostname()
        self.phase, self.rows_done = CHECKING, 0

    def start_again(self) -> None:
        """A stopped job waits for a new process, with the file it kept."""
        if not self.stopped:
            raise DomainError("Only an import that stopped can be started again.")
        self.state, self.phase, self.rows_done = QUEUED, "", None
        self.queued_at, self.started_at, self.pid, self.host = utcnow(), None, None, None

    def succeeded(self, summary: str, mail_ids: list[int]) -> None:
        self._end(SUCCEEDED)
        self.summary, self.mails_queued = summary, len(mail_ids)
        self.first_mail_id = min(mail_ids, default=None)
        self.last_mail_id = max(mail_ids, default=None)

    def refused(self, problems: list[str]) -> None:
        self._end(REFUSED)
        self.problems = problems

    def failed(self, reason: str) -> None:
        """It could not finish (a bug, the database gone): nothing was saved."""
        if self.state not in (QUEUED, RUNNING):
            raise DomainError("This import has ended already.")
        self._end(FAILED, check=False)
        self.failure = reason

    def mailed(self) -> None:
        if self.state != SUCCEEDED or self.mailed_at is not None:
            raise DomainError("This import has no mail left to send.")
        self.mailed_at = utcnow()

    def _end(self, state: str, *, check: bool = True) -> None:
        if check:
            self._check(RUNNING)
        self.state, self.finished_at, self.phase = state, utcnow(), ""
        self.file_data = None  # the staff list is personal data: kept no longer than needed

    def _check(self, state: str) -> None:
        if self.state != state:
            raise DomainError(
                f"This import is {STATE_WORDS.get(self.state, self.state)}, "
                f"not {STATE_WORDS[state]}."
            )

    def _process_alive(self) -> bool:
        if self.pid is None:  # waiting for its process, which may not have been started
            return self.state == QUEUED and utcnow() - self.queued_at < WAIT_FOR_PROCESS
        if self.host != socket.gethostname():
            return True  # run on another machine: it cannot be seen from here
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # alive, run by another user
        return True

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} {self.state}>"


def first_name_of(name: str) -> str:
    words = name.split()
    return words[0] if words else name
