"""Time building a whole cycle's reports: one process against one worker per core.

A synthetic cycle of --subjects people (self-assessment and 12 raters each, MPS 2006) is
written to a scratch SQLite database and closed. The benchmark then builds reports through
the app's own `build_reports`, committing each as `feedback360 reports build` does:

1. in this process only, for the first --single reports (throughput, reports per second);
2. with --workers worker processes, the whole cycle from scratch, sampling the memory of
   this process and of its workers after every 100 reports.

    .venv/bin/python benchmarks/cycle_reports.py [--subjects 1000] [--single 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthetic  # noqa: E402

from tests.servers import children_of  # noqa: E402

TWELVE_RATERS = {"self": 1, "line_manager": 1, "peer": 4, "direct_report": 4, "other": 3}


def rss_mib(pid: int) -> float:
    """Resident memory of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pids() -> list[int]:
    """This process's children: the build's worker processes (and the spawn helper)."""
    return children_of(os.getpid())


def make_cycle(workdir: Path, subjects: int):  # type: ignore[no-untyped-def]
    os.environ["FEEDBACK360_INSTANCE_PATH"] = str(workdir / "instance")
    os.environ.pop("FEEDBACK360_CONFIG", None)
    from feedback360 import create_app
    from feedback360.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'cycle.sqlite'}", "SECRET_KEY": "x"}
    )
    with app.app_context():
        db.create_all()
        cycle, framework = synthetic.load_mps_framework()
        answers = synthetic.make_answers(subjects, framework, per_subject=TWELVE_RATERS)
        request_ids = synthetic.write_people_and_requests(cycle, subjects)
        synthetic.write_sqlite(answers, framework, request_ids)
        cycle.open()
        cycle.close()
        db.session.commit()
        return app, cycle.id


def build(app, cycle_id: int, *, workers: int, limit: int | None, rebuild: bool) -> dict:  # type: ignore[no-untyped-def]
    from feedback360.cycles.models import Cycle
    from feedback360.extensions import db
    from feedback360.reports.building import build_reports

    samples = []
    built = 0
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)
        began = time.perf_counter()
        outcomes = build_reports(cycle, rebuild=rebuild, workers=workers)
        for outcome in outcomes:
            if outcome.report is None:
                raise SystemExit(f"{outcome.subject_name}: {outcome.error}")
            db.session.commit()
            built += 1
            if built % 100 == 0:
                workers_rss = [rss_mib(pid) for pid in worker_pids()]
                samples.append((built, rss_mib(os.getpid()), workers_rss))
            if limit is not None and built >= limit:
                outcomes.close()
                break
        seconds = time.perf_counter() - began
    return {"built": built, "seconds": seconds, "per_second": built / seconds, "memory": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--single", type=int, default=100, help="reports built in one process")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="feedback360-bench-") as scratch:
        began = time.perf_counter()
        app, cycle_id = make_cycle(Path(scratch), args.subjects)
        print(f"cycle of {args.subjects} subjects written in {time.perf_counter() - began:.1f} s")

        one = build(app, cycle_id, workers=1, limit=args.single, rebuild=False)
        each = one["seconds"] / one["built"] * 1000
        print(
            f"one process:  {one['built']} reports in {one['seconds']:.1f} s, "
            f"{one['per_second']:.2f} reports/s ({each:.0f} ms each)"
        )
        many = build(app, cycle_id, workers=args.workers, limit=None, rebuild=True)
        print(
            f"{args.workers} workers:    {many['built']} reports in {many['seconds']:.1f} s, "
            f"{many['per_second']:.2f} reports/s, {many['per_second'] / one['per_second']:.2f}× "
            "one process"
        )
        print("memory (MiB) after every 100 reports: built, main process, each worker")
        for built, main_rss, workers_rss in many["memory"]:
            each = ", ".join(f"{rss:.0f}" for rss in workers_rss)
            print(f"  {built:>5}  {main_rss:6.0f}  [{each}]")


if __name__ == "__main__":
    main()
