"""Time building a cycle's reports on Celery workers, beside the local process pool.

The synthetic cycle of `cycle_reports.py` (--subjects people, a self-assessment and 12
raters each, MPS 2006) is written to a scratch SQLite database and closed. A real Celery
worker is started (`celery -A feedback360.tasks worker`, prefork, --workers processes) on
Redis, with a queue of its own that is deleted at the end. Then, through the app's own
`build_reports`, committing each outcome as `feedback360 reports build` does:

1. every report built by the Celery worker;
2. every report built again by the local pool of --workers processes, for a figure taken
   on the same machine at the same time;

and again, --rounds times in turn (a shared machine's load drifts), each a full rebuild.

    .venv/bin/python benchmarks/celery_reports.py [--subjects 200] [--workers 2]
        [--rounds 2] [--redis redis://127.0.0.1:6379/0] [--no-local]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import cycle_reports
import redis

from tests.servers import stop_process_group  # cycle_reports puts the project on the path

CELERY = Path(sys.executable).with_name("celery")


def start_worker(app, processes: int, log_path: Path) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    from feedback360.processes import command_environment

    with app.app_context():
        env = command_environment()  # as the dashboard's build process is given
    with log_path.open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            [
                str(CELERY),
                "-A",
                "feedback360.tasks",
                "worker",
                "--pool=prefork",
                f"--concurrency={processes}",
                "--loglevel=WARNING",
                f"--hostname={app.config['CELERY_QUEUE']}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Ready once it answers a ping on this queue's own worker name.
    celery = app.extensions["celery"]
    deadline = time.monotonic() + 120
    while not celery.control.ping(destination=[f"{app.config['CELERY_QUEUE']}@{os.uname()[1]}"]):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.5)
    return worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-local", action="store_true", help="skip the local pool's runs")
    parser.add_argument(
        "--rounds", type=int, default=2, help="Celery and local runs, taken in turn"
    )
    args = parser.parse_args()

    broker = redis.Redis.from_url(args.redis, socket_connect_timeout=2)
    try:
        broker.ping()
    except redis.RedisError as error:
        raise SystemExit(f"Redis is not reachable at {args.redis}: {error}") from error
    queue = f"feedback360-bench-{uuid.uuid4().hex[:12]}"
    os.environ["FEEDBACK360_CELERY_BROKER_URL"] = args.redis
    os.environ["FEEDBACK360_CELERY_QUEUE"] = queue

    with tempfile.TemporaryDirectory(prefix="feedback360-bench-") as scratch:
        began = time.perf_counter()
        app, cycle_id = cycle_reports.make_cycle(Path(scratch), args.subjects)
        print(f"cycle of {args.subjects} subjects written in {time.perf_counter() - began:.1f} s")
        worker = start_worker(app, args.workers, Path(scratch) / "worker.log")
        celery = app.extensions["celery"]
        figures: dict[str, list[float]] = {"Celery": [], "local": []}
        try:
            for round_ in range(args.rounds):
                app.extensions["celery"] = celery
                run = cycle_reports.build(app, cycle_id, workers=1, limit=None, rebuild=round_ > 0)
                report(f"round {round_ + 1}, Celery, 1 worker of {args.workers} processes", run)
                figures["Celery"].append(run["per_second"])
                if args.no_local:
                    continue
                app.extensions.pop("celery")  # the same app without a broker: the local pool
                run = cycle_reports.build(
                    app, cycle_id, workers=args.workers, limit=None, rebuild=True
                )
                report(f"round {round_ + 1}, local pool of {args.workers} processes", run)
                figures["local"].append(run["per_second"])
        finally:
            stop_process_group(worker, timeout=60)
            broker.delete(queue, *broker.scan_iter(f"*{queue}*"))
        for name, rates in figures.items():
            if rates:
                each = ", ".join(f"{rate:.2f}" for rate in rates)
                print(f"{name}: median {statistics.median(rates):.2f} reports/s ({each})")


def report(what: str, run: dict) -> None:  # type: ignore[type-arg]
    print(
        f"{what}: {run['built']} reports in {run['seconds']:.1f} s, "
        f"{run['per_second']:.2f} reports/s",
        flush=True,
    )


if __name__ == "__main__":
    main()
