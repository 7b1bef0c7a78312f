"""Time a background import of a 47,000-person staff list, as the import page runs it.

A synthetic list (each person managed by someone earlier in it, every tenth of them a
coach's coachee, one administrator) is stored as an import job, then run by
`feedback360 people import-job <id>`'s function in a fresh process, so that the peak memory
(`ru_maxrss`) is the job's alone. The mail goes to an outbox folder (one file a message).

    .venv/bin/python benchmarks/import_job.py [--people 47000] [--skip-postgres]

Prints, for SQLite and (when the server can be reached) PostgreSQL: checking, saving (to
the commit) and sending times, the total, the peak memory, and the mail queued and sent.
The PostgreSQL server is the tests' (FEEDBACK360_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import postgres_database  # noqa: E402

HEADER = "name,email,staff type,business unit,line manager's email,roles,coach's email\n"


def staff_list(people: int) -> bytes:
    rows = [HEADER]
    for n in range(people):
        manager = f"p{n // 10}@example.org" if n else ""
        roles = "admin" if n == 0 else ("coach" if n % 1000 == 1 else "")
        coach = "p1@example.org" if n % 10 == 5 else ""
        rows.append(
            f"Person {n},p{n}@example.org,Police {'officer' if n % 3 else 'staff'},"
            f"Unit {n % 40},{manager},{roles},{coach}\n"
        )
    return "".join(rows).encode()


def make_app(url: str, folder: Path):  # type: ignore[no-untyped-def]
    from feedback360 import create_app

    return create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_OUTBOX_DIR": str(folder / "outbox"),
            "BASE_URL": "http://localhost",
        }
    )


def prepare(url: str, folder: Path, people: int) -> int:
    """Tables, the administrator, and the job stored as the import page stores it."""
    from feedback360.accounts.import_jobs import create_import_job
    from feedback360.accounts.services import add_person
    from feedback360.extensions import db

    app = make_app(url, folder)
    with app.app_context():
        db.create_all()
        ada = add_person("Person 0", "p0@example.org", is_admin=True)
        job = create_import_job(staff_list(people), "staff.csv", full_list=False, acting=ada)
        db.session.commit()
        return job.id


def run(url: str, folder: Path, job_id: int) -> dict[str, object]:
    """Run the job here (in the fresh process this is called in); what it took."""
    from feedback360.accounts.import_job_run import run_import_job
    from feedback360.accounts.import_jobs import mail_progress
    from feedback360.extensions import db

    app = make_app(url, folder)
    with app.app_context():
        began = time.perf_counter()
        job = run_import_job(job_id)
        total = time.perf_counter() - began
        mail = mail_progress(job)
        assert job.started_at
        assert job.finished_at
        assert job.mailed_at
        return {
            "state": job.state,
            "summary": job.summary,
            "saving_s": (job.finished_at - job.started_at).total_seconds(),
            "sending_s": (job.mailed_at - job.finished_at).total_seconds(),
            "total_s": total,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "mails_queued": mail.queued,
            "mails_sent": mail.sent,
            "db_rows": db.session.scalar(text("SELECT count(*) FROM person")),
        }


def measure(url: str, folder: Path, people: int) -> dict[str, object]:
    job_id = prepare(url, folder, people)
    child = subprocess.run(  # noqa: S603 (this script, fixed arguments)
        [sys.executable, __file__, "--child", url, str(folder), str(job_id)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def report(name: str, figures: dict[str, object]) -> None:
    print(
        f"{name}: {figures['summary']}; saving (checking included) "
        f"{figures['saving_s']:.1f} s, sending {figures['sending_s']:.1f} s, total "
        f"{figures['total_s']:.1f} s; peak memory {figures['peak_mb']:.0f} MB; "
        f"{figures['mails_queued']} set-password mails queued, {figures['mails_sent']} sent"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=47_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, folder, job_id = args.child
        print(json.dumps(run(url, Path(folder), int(job_id))))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        os.environ["FEEDBACK360_INSTANCE_PATH"] = str(folder / "instance")
        (folder / "sqlite").mkdir()
        sqlite_url = f"sqlite:///{folder / 'sqlite' / 'bench.sqlite'}"
        report("SQLite", measure(sqlite_url, folder / "sqlite", args.people))
        if args.skip_postgres:
            return
        try:
            with postgres_database() as url:
                (folder / "pg").mkdir()
                report("PostgreSQL", measure(url, folder / "pg", args.people))
        except pytest.skip.Exception as skipped:
            print(f"PostgreSQL skipped: {skipped}")


if __name__ == "__main__":
    main()
