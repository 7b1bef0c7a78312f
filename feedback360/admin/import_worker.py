"""Starting an import job from the import page: `feedback360 people import-job <id>` in a
process of its own, as a report build is started, so the upload's request returns at once
and the page follows the job in the database."""

from __future__ import annotations

from flask import current_app

from feedback360.accounts.models import ImportJob
from feedback360.extensions import db
from feedback360.processes import start_command

# Where a job runs: "process" (the default) starts the command for it here; "none" leaves
# it queued for whoever runs the command (the tests run it in their own process).
WORKER_SETTING = "PEOPLE_IMPORT_WORKER"


def start_import_worker(job_id: int) -> None:
    """Start the process that runs the job, which must be committed already."""
    if current_app.config.get(WORKER_SETTING, "process") == "none":
        return
    pid = start_command(["people", "import-job", str(job_id)], f"imports/import-{job_id}.log")
    # Noted so that the page can tell a process that died before taking the job.
    job = db.session.get_one(ImportJob, job_id, with_for_update=True)
    job.handed_to(pid)
    db.session.commit()
