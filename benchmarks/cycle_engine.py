"""Time the whole-cycle engine, numpy means, and loading a cycle, on a synthetic organisation.

    .venv/bin/python benchmarks/cycle_engine.py --subjects 47000

Each stage runs in a fresh subprocess, so its peak memory is its own. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import stages

# Issue 18 brought the load target down from 30 s to 5 s, on each database.
TARGETS = {"engine": 2.0, "load": 5.0, "memory_gib": 3.0}
LAYOUT = "packed scores"  # issue 18: a response row holds its ratings
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=47_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temp one)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="a server to test on")
    parser.add_argument("--keep", action="store_true", help="keep the data for another run")
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # run inside a fresh subprocess
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stages.run_stage(args)))
    else:
        orchestrate(args)


# --- the parent: generate once, run every stage in a subprocess, summarise ---------------


def orchestrate(args: argparse.Namespace) -> None:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="feedback360-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"workdir {workdir}; {args.subjects:,} subjects; {args.runs} runs per figure")
    print(machine_summary())
    meta_path = workdir / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    wanted = {"subjects": args.subjects, "seed": args.seed, "layout": LAYOUT}
    if any(meta.get(key) != value for key, value in wanted.items()):
        meta = wanted  # a kept database of another size, or from before packed scores
    postgres = postgres_database(args.postgres_url, meta.get("postgres_db"))

    jobs = {}
    if "fingerprint" not in meta:
        jobs["sqlite"] = start(args, workdir, "generate-sqlite")
    if postgres and not postgres["exists"]:
        jobs["postgres"] = start(args, workdir, "generate-postgres", postgres["url"])
    for name, job in jobs.items():  # the two databases fill side by side
        result = finish(job)
        print(f"generated {name}: {result['seconds']:.0f} s ({result['detail']})")
        meta.update(result.get("meta", {}))
    if postgres:
        meta["postgres_db"] = postgres["name"]
    meta_path.write_text(json.dumps(meta))

    results = {}
    for stage, url in [
        ("engine", None),
        ("numpy-means", None),
        ("load-sqlite", None),
        ("load-postgres", postgres["url"] if postgres else None),
    ]:
        if stage == "load-postgres" and not postgres:
            print(f"load-postgres: skipped, {args.postgres_url} is not reachable")
            continue
        results[stage] = finish(start(args, workdir, stage, url))
        print(describe(stage, results[stage]))
    print()
    print(summary(results, meta))
    (workdir / "results.json").write_text(json.dumps(results, indent=2))

    if not args.keep:
        if postgres:
            drop_postgres(args.postgres_url, postgres["name"])
        if not args.workdir:
            shutil.rmtree(workdir)
    else:
        print(f"kept {workdir}" + (f" and database {postgres['name']}" if postgres else ""))


def start(args, workdir: Path, stage: str, url: str | None = None) -> subprocess.Popen:
    command = [sys.executable, __file__, "--stage", stage, "--workdir", str(workdir)]
    command += ["--subjects", str(args.subjects), "--runs", str(args.runs)]
    command += ["--seed", str(args.seed)] + (["--database-url", url] if url else [])
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603


def finish(job: subprocess.Popen) -> dict:
    out, _ = job.communicate()
    if job.returncode != 0:
        raise SystemExit(f"stage failed: {' '.join(job.args)}")
    return json.loads(out.strip().splitlines()[-1])


def postgres_database(server_url: str, name: str | None) -> dict | None:
    """A database of our own on the server: the kept one, or a new empty one."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import OperationalError

    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = bool(
                name
                and connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
            )
            if not exists:
                name = f"feedback360_bench_{uuid.uuid4().hex[:12]}"
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        print(f"PostgreSQL is not reachable at {server.render_as_string()}: {error.orig}")
        return None
    finally:
        admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    return {"name": name, "url": url, "exists": exists}


def drop_postgres(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def machine_summary() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} CPUs ({model}); "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; numpy {np.__version__}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}"
    )


def describe(stage: str, result: dict) -> str:
    if "unavailable" in result:
        return f"{stage}: {result['unavailable']}"
    times = ", ".join(f"{t:.2f}" for t in result["times"])
    extra = f"; {result['detail']}" if result.get("detail") else ""
    return (
        f"{stage}: median {result['median']:.2f} s (runs {times}), "
        f"CPU {result['cpu_median']:.2f} s; peak {result['maxrss_gib']:.2f} GiB{extra}"
    )


def summary(results: dict, meta: dict) -> str:
    """The figures against their targets, as a Markdown table."""
    rows = ["| figure | median | CPU | target | |", "| --- | --- | --- | --- | --- |"]

    def line(what: str, stage: str, target: str = "", limit: float | None = None) -> None:
        value = results.get(stage, {}).get("median")
        cpu = results.get(stage, {}).get("cpu_median")
        mark = ""
        if value is not None and limit is not None:
            met = value < limit if target.startswith("<") else value <= limit
            mark = "met" if met else "MISSED"
        shown, cpu_shown = (f"{x:.2f}" if x is not None else "n/a" for x in (value, cpu))
        rows.append(f"| {what} | {shown} | {cpu_shown} | {target} | {mark} |")

    line("1. engine, whole cycle (s)", "engine", "< 2 s", TARGETS["engine"])
    line("2. numpy means from the arrays (s)", "numpy-means")
    for stage in ("load-sqlite", "load-postgres"):
        if stage in results:
            what = f"3. load_cycle from {stage.split('-')[1]} (s)"
            line(what, stage, "≤ 5 s", TARGETS["load"])
    peak = max(r["maxrss_gib"] for r in results.values() if "maxrss_gib" in r)
    met = "met" if peak <= TARGETS["memory_gib"] else "MISSED"
    rows.append(f"| 4. peak memory of any stage (GiB) | {peak:.2f} | | ≤ 3 GiB | {met} |")
    rows.append("")
    rows.append(
        f"{meta['subjects']:,} subjects, {meta.get('responses', 0):,} responses, "
        f"{meta.get('ratings', 0):,} answers of which {meta.get('not_seen', 0):,} not seen. "
        "CPU is this process's own; the PostgreSQL server's is not in it."
    )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
