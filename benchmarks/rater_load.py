"""Fifty raters at once against gunicorn: requests per second and latency of the rater form.

Each virtual rater opens their link, then on each of the four value pages saves
--autosaves answers one by one (as the page's script does on every click) and presses
Next with them all, then submits from the summary. Every rater runs in a thread of this
process, all starting together; the app runs under gunicorn (gthread workers) on a scratch
SQLite file or a fresh PostgreSQL database.

    .venv/bin/python benchmarks/rater_load.py [--database sqlite|postgresql] [--raters 50]
        [--workers 3] [--threads 4] [--autosaves 3] [--think 0] [--spread]

"Form submissions" are the POSTs: autosaves, Next and the final submit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402  (the test helpers below make PostgreSQL databases with it)
from sqlalchemy import make_url  # noqa: E402

from feedback360 import create_app  # noqa: E402
from feedback360.extensions import db  # noqa: E402
from feedback360.frameworks.models import Framework  # noqa: E402
from tests.conftest import postgres_database  # noqa: E402
from tests.rater_load import app_settings, gunicorn, run_raters, seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--autosaves", type=int, default=3)
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds each rater waits between clicks"
    )
    parser.add_argument(
        "--spread",
        action="store_true",
        help="first clicks spread over the first pause, pauses of think ± half",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        instance = Path(scratch) / "instance"
        if args.database == "postgresql":
            url = stack.enter_context(postgres_database(tables=True))
        else:
            url = f"sqlite:///{Path(scratch) / 'load.sqlite'}"
        with pytest.MonkeyPatch.context() as env:
            env.setenv("FEEDBACK360_INSTANCE_PATH", str(instance))
            app = create_app(app_settings(instance, url))
        with app.app_context():
            db.create_all()
            paths = seed(app, args.raters)
            framework = db.session.scalars(db.select(Framework)).one()
            by_value = [[s.id for s in value.statements] for value in framework.values]
            db.session.remove()
            db.engine.dispose()

        with gunicorn(instance, url, workers=args.workers, threads=args.threads) as port:
            before = _cpu_now(url)
            timings, wall = run_raters(
                port,
                paths,
                by_value,
                autosaves=args.autosaves,
                think=args.think,
                spread=args.spread,
            )
            used = {who: seconds - before.get(who, 0.0) for who, seconds in _cpu_now(url).items()}

    report(args, timings, wall)
    # CPU seconds while the raters ran, counted from /proc: on a machine shared with other
    # work, CPU per request says more than requests per second.
    requests = sum(len(seconds) for seconds in timings.seconds.values())
    print(
        "CPU ms per request: "
        + ", ".join(f"{who} {1000 * seconds / requests:.1f}" for who, seconds in used.items())
    )
    print(f"load average at the end (1, 5, 15 min): {os.getloadavg()}")


def _cpu_now(database_url: str) -> dict[str, float]:
    """CPU seconds so far of the raters (this process), the gunicorn workers (children of
    its master, a child of this process) and the PostgreSQL backends of this database."""
    this = os.getpid()
    database = f" {make_url(database_url).database} " if database_url.startswith("post") else None
    processes = _processes()
    masters = {pid for pid, (parent, _, _) in processes.items() if parent == this}
    used = {"raters": 0.0, "gunicorn workers": 0.0, "PostgreSQL": 0.0}
    for pid, (parent, command, seconds) in processes.items():
        if pid == this:
            used["raters"] += seconds
        elif parent in masters:
            used["gunicorn workers"] += seconds
        elif database and database in command:
            used["PostgreSQL"] += seconds
    return used


def _processes() -> dict[int, tuple[int, str, float]]:
    """Each process's parent, command line and CPU seconds (user and system)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone since the listing
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the name, which may hold spaces
        found[int(entry.name)] = (
            int(fields[1]),
            command,
            (int(fields[11]) + int(fields[12])) / tick,
        )
    return found


def report(args: argparse.Namespace, timings, wall: float) -> None:  # type: ignore[no-untyped-def]
    print(
        f"{args.raters} raters at once, {args.database}, gunicorn {args.workers} workers "
        f"x {args.threads} threads, {args.autosaves} autosaves per page, {args.think} s "
        f"between clicks{' (spread)' if args.spread else ' (in step)'}: {wall:.1f} s"
    )
    print(f"{'request':<18}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}")
    total = posts = 0
    for kind in sorted(timings.seconds):
        count, p50, p95 = timings.summary(kind)
        total += count
        posts += count if kind.startswith("POST") else 0
        print(f"{kind:<18}{count:>7}{p50:>9.0f}{p95:>9.0f}")
    every = sorted(t for values in timings.seconds.values() for t in values)
    p95_all = every[int(len(every) * 0.95)] * 1000
    print(f"all requests: {total / wall:.0f} per second, p95 {p95_all:.0f} ms")
    print(f"form submissions (POST): {posts / wall:.0f} per second")
    print(f"problems: {len(timings.problems)}")
    for problem in timings.problems[:5]:
        print(f"  {problem}")


if __name__ == "__main__":
    main()
