"""Building a closed cycle's reports in a background process, and following its progress.

The build is the `feedback360 reports build` command in a process of its own, started with
this app's configuration. It keeps each report as soon as it is built and notes its start,
its failures and its end on the cycle, so any web process can show how far it has got.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app

from feedback360.audit.services import record
from feedback360.config import DEFAULTS
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.models import Report
from feedback360.reports.services import check_buildable
from feedback360.timeutil import utcnow

BUILD_COMMAND = "from feedback360.cli import main; main()"


@dataclass(frozen=True)
class BuildProgress:
    total: int
    built: int
    failures: list[str]
    started_at: datetime | None
    running: bool
    finished: bool

    @property
    def complete(self) -> bool:
        return self.built >= self.total

    @property
    def stopped(self) -> bool:
        """Started, neither running nor finished: the process ended before its work."""
        return self.started_at is not None and not self.running and not self.finished


def build_progress(cycle: Cycle) -> BuildProgress:
    """Read from the database, where the building process commits report by report."""
    total = db.session.scalar(
        db.select(db.func.count()).select_from(FeedbackRequest).filter_by(cycle_id=cycle.id)
    )
    built = db.session.scalar(
        db.select(db.func.count())
        .select_from(Report)
        .join(FeedbackRequest, Report.request_id == FeedbackRequest.id)
        .where(FeedbackRequest.cycle_id == cycle.id)
    )
    return BuildProgress(
        total=int(total or 0),
        built=int(built or 0),
        failures=list(cycle.build_failures or []),
        started_at=cycle.build_started_at,
        running=build_running(cycle),
        finished=_finished(cycle),
    )


def build_running(cycle: Cycle) -> bool:
    if cycle.build_started_at is None or cycle.build_pid is None or _finished(cycle):
        return False
    return _process_alive(cycle.build_pid)


def start_build(cycle: Cycle) -> int:
    """Start building the cycle's unbuilt reports in a background process; its id."""
    check_buildable(cycle)
    if build_running(cycle):
        raise DomainError("The reports are being built already; follow the progress below.")
    progress = build_progress(cycle)
    if progress.complete:
        raise DomainError("Every report of this cycle is built already.")
    log_path = Path(current_app.instance_path) / "builds" / f"cycle-{cycle.id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            [sys.executable, "-c", BUILD_COMMAND, "reports", "build", str(cycle.id)],
            env=_environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a restart of the web server does not stop the build
        )
    # Collects the process when it ends, so it never lingers as a zombie.
    threading.Thread(target=process.wait, daemon=True).start()
    cycle.build_started_at = utcnow()
    cycle.build_pid = process.pid
    record("reports.build", f"cycle {cycle.id}", f"started in process {process.pid}")
    return process.pid


def begin_build(cycle: Cycle) -> None:
    """Called by the building process itself as it starts."""
    if build_running(cycle) and cycle.build_pid != os.getpid():
        raise DomainError(
            f"Another process ({cycle.build_pid}) is building the reports of “{cycle.name}”."
        )
    cycle.build_started_at = utcnow()
    cycle.build_finished_at = None
    cycle.build_failures = []
    cycle.build_pid = os.getpid()


def note_failure(cycle: Cycle, message: str) -> None:
    cycle.build_failures = [*(cycle.build_failures or []), message]


def finish_build(cycle: Cycle) -> None:
    cycle.build_finished_at = utcnow()


def _finished(cycle: Cycle) -> bool:
    started, finished = cycle.build_started_at, cycle.build_finished_at
    if started is None or finished is None:
        return False
    # Both are UTC; a value just set is aware, one read back from SQLite is naive.
    return finished.replace(tzinfo=None) >= started.replace(tzinfo=None)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, run by another user
    return True


def _environment() -> dict[str, str]:
    """This app's configuration as FEEDBACK360_* variables, JSON-encoded so that every
    value reads back with its type (a secret key of digits stays text)."""
    env = dict(os.environ)
    env["FEEDBACK360_INSTANCE_PATH"] = current_app.instance_path
    for key in DEFAULTS:
        env[f"FEEDBACK360_{key}"] = json.dumps(current_app.config[key])
    return env
