"""Time building a whole cycle's reports: one process against one worker per core.

A synthetic cycle of --subjects people (self-assessment and 12 raters each, MPS 2006) is
written to a scratch SQLite database and closed. The benchmark freezes every report once,
as a build does first (timed on its own), then renders them through the build's own
`render_reports`, committing each as `build_cycle` does:

1. in this process only, for the first --single reports (throughput, reports per second);
2. with --workers worker processes, the whole cycle, rendered again from the same frozen
   documents, sampling the memory of this process and of its workers after every 100
   reports.

Each run also prints the CPU time per report of this process and of its workers.

    .venv/bin/python benchmarks/cycle_reports.py [--subjects 1000] [--single 100] [--workers 2]
        [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

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


def freeze(app, cycle_id: int) -> float:  # type: ignore[no-untyped-def]
    """Freeze every report of the cycle afresh, as a build does first; seconds taken."""
    from feedback360.cycles.models import Cycle
    from feedback360.extensions import db
    from feedback360.reports.freezing import freeze_cycle

    with app.app_context():
        began = time.perf_counter()
        freeze_cycle(db.session.get(Cycle, cycle_id), rebuild=True)
        db.session.commit()
        return time.perf_counter() - began


def render(app, cycle_id: int, *, workers: int, limit: int | None) -> dict:  # type: ignore[no-untyped-def]
    """Render the frozen reports through the build's own `render_reports`, committing each
    as `build_cycle` does, after clearing what an earlier run rendered."""
    from feedback360.cycles.models import Cycle
    from feedback360.extensions import db
    from feedback360.reports.building import render_reports
    from feedback360.reports.models import Report

    samples = []
    built = 0
    with app.app_context():
        db.session.execute(
            update(Report).values(
                html=None, pdf=None, coach_html=None, coach_print=None, coach_pdf=None
            )
        )
        db.session.commit()
        cycle = db.session.get(Cycle, cycle_id)
        began, cpu = time.perf_counter(), time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        outcomes = render_reports(cycle, workers=workers)
        for outcome in outcomes:
            if outcome.report is None:
                raise SystemExit(f"{outcome.subject_name}: {outcome.error}")
            db.session.commit()
            built += 1
            if built % 100 == 0:
                workers_rss = [rss_mib(pid) for pid in worker_pids()]
                samples.append((built, rss_mib(os.getpid()), workers_rss))
            if limit is not None and built >= limit:
                outcomes.close()  # with a pool: its workers end here, and are counted below
                break
        seconds = time.perf_counter() - began
        main_cpu = time.process_time() - cpu
        ended = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = ended.ru_utime + ended.ru_stime - children.ru_utime - children.ru_stime
    return {
        "built": built,
        "seconds": seconds,
        "per_second": built / seconds,
        "main_cpu": main_cpu,
        "workers_cpu": workers_cpu,
        "memory": samples,
    }


def cpu_line(run: dict) -> str:  # type: ignore[type-arg]
    """CPU seconds per report: this process's and its workers' (the projection's figure)."""
    main_ms = run["main_cpu"] / run["built"] * 1000
    workers_ms = max(run["workers_cpu"], 0) / run["built"] * 1000
    # Cores used: below the workers' number, other processes had the rest of the machine.
    cores = (run["main_cpu"] + max(run["workers_cpu"], 0)) / run["seconds"]
    return (
        f"  CPU per report: {main_ms + workers_ms:.0f} ms "
        f"(this process {main_ms:.0f} ms, workers {workers_ms:.0f} ms); {cores:.2f} cores used"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--single", type=int, default=100, help="reports built in one process")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=1, help="one process, then the workers")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="feedback360-bench-") as scratch:
        began = time.perf_counter()
        app, cycle_id = make_cycle(Path(scratch), args.subjects)
        print(f"cycle of {args.subjects} subjects written in {time.perf_counter() - began:.1f} s")

        print(f"reports frozen in {freeze(app, cycle_id):.1f} s")
        ratios = []
        for round_ in range(1, args.rounds + 1):  # in turn, so both meet the same machine
            one = render(app, cycle_id, workers=1, limit=args.single)
            each = one["seconds"] / one["built"] * 1000
            print(
                f"round {round_}, one process: {one['built']} reports in {one['seconds']:.1f} s, "
                f"{one['per_second']:.2f} reports/s ({each:.0f} ms each)"
            )
            print(cpu_line(one))
            many = render(app, cycle_id, workers=args.workers, limit=None)
            ratios.append(many["per_second"] / one["per_second"])
            print(
                f"round {round_}, {args.workers} workers: {many['built']} reports in "
                f"{many['seconds']:.1f} s, {many['per_second']:.2f} reports/s, "
                f"{ratios[-1]:.2f}× one process"
            )
            print(cpu_line(many))
        print(f"speed-up, median of {args.rounds}: {statistics.median(ratios):.2f}×")
        print("memory (MiB) after every 100 reports: built, main process, each worker")
        for built, main_rss, workers_rss in many["memory"]:
            each = ", ".join(f"{rss:.0f}" for rss in workers_rss)
            print(f"  {built:>5}  {main_rss:6.0f}  [{each}]")


if __name__ == "__main__":
    main()
