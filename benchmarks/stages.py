"""The benchmark's stages, each run by cycle_engine.py in a fresh process of its own."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np

SQL_MEANS = """
SELECT r.request_id, r."group", ra.statement_id, AVG(ra.score) AS mean, COUNT(ra.score) AS n
FROM rating ra JOIN response r ON ra.response_id = r.id
{where}
GROUP BY r.request_id, r."group", ra.statement_id
"""
N_GROUPS = 5


def run_stage(args: argparse.Namespace) -> dict:
    stage = args.stage
    if stage in ("generate-sqlite", "generate-postgres"):
        return generate(args)
    if stage in ("load-sqlite", "load-postgres"):
        return time_loading(args)
    if stage == "sql-means":
        return time_sql_means(args)
    arrays = saved_arrays(args.workdir)
    if stage == "engine":
        return time_engine(arrays, args.runs)
    if stage == "numpy-means":
        return timed(lambda: group_means(arrays), args.runs)
    raise SystemExit(f"unknown stage {stage}")


def timed(work, runs: int, detail: str = "") -> dict:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return {
        "times": times,
        "median": statistics.median(times),
        "maxrss_gib": peak_gib(),
        "detail": detail,
    }


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def app_for(args: argparse.Namespace, url: str):  # type: ignore[no-untyped-def]
    os.environ["FEEDBACK360_INSTANCE_PATH"] = str(args.workdir / "instance")
    os.environ.pop("FEEDBACK360_CONFIG", None)
    from feedback360 import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark"})


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'cycle.sqlite'}"


def generate(args: argparse.Namespace) -> dict:
    import synthetic

    from feedback360.extensions import db

    on_sqlite = args.stage == "generate-sqlite"
    if on_sqlite:
        (args.workdir / "cycle.sqlite").unlink(missing_ok=True)
    began = time.perf_counter()
    with app_for(args, sqlite_url(args.workdir) if on_sqlite else args.database_url).app_context():
        db.create_all()
        cycle, framework = synthetic.load_mps_framework()
        answers = synthetic.make_answers(args.subjects, framework, seed=args.seed)
        request_ids = synthetic.write_people_and_requests(cycle, args.subjects)
        if on_sqlite:
            synthetic.write_sqlite(answers, framework, request_ids)
        else:
            synthetic.write_postgres(answers, framework, request_ids)
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"  # as a settled production database would be
                )
        cycle_id = cycle.id
    result = {
        "seconds": time.perf_counter() - began,
        "detail": f"{answers.scores.size:,} ratings",
    }
    if on_sqlite:
        arrays = answers.arrays(framework, args.subjects)
        np.savez(
            args.workdir / "arrays.npz",
            ratings=arrays.ratings,
            subject=arrays.subject,
            group=arrays.group,
            statement_value=arrays.statement_value,
            statement_positive=arrays.statement_positive,
            request_ids=request_ids,
            shape=np.array([arrays.n_subjects, arrays.n_values, arrays.scale_points]),
        )
        result["meta"] = {
            "cycle_id": cycle_id,
            "responses": int(answers.scores.shape[0]),
            "ratings": int(answers.scores.size),
            "not_seen": int(np.count_nonzero(answers.scores == 0)),
            "fingerprint": fingerprint(arrays),
        }
    return result


def saved_arrays(workdir: Path):  # type: ignore[no-untyped-def]
    from feedback360.reports.engine.inputs import CycleArrays

    saved = np.load(workdir / "arrays.npz")
    n_subjects, n_values, scale_points = saved["shape"].tolist()
    return CycleArrays(
        ratings=saved["ratings"],
        subject=saved["subject"],
        group=saved["group"],
        statement_value=saved["statement_value"],
        statement_positive=saved["statement_positive"],
        n_subjects=n_subjects,
        n_values=n_values,
        scale_points=scale_points,
    )


def fingerprint(arrays) -> str:  # type: ignore[no-untyped-def]
    """A digest of the arrays that ignores the order of rows within a subject's group."""
    ratings = np.nan_to_num(arrays.ratings, nan=0.0)
    keys = [ratings[:, j] for j in reversed(range(ratings.shape[1]))]
    order = np.lexsort([*keys, arrays.group, arrays.subject])
    digest = hashlib.sha256()
    for part in (ratings[order], arrays.group[order].astype(np.int64), arrays.subject[order]):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def time_engine(arrays, runs: int) -> dict:  # type: ignore[no-untyped-def]
    try:
        from feedback360.reports.engine.analysis import analyse_cycle
    except ImportError:
        return {"unavailable": "engine: analyse_cycle not available"}
    from feedback360.reports.engine.inputs import CycleSettings

    try:
        return timed(lambda: analyse_cycle(arrays, CycleSettings()), runs)
    except Exception as error:  # the engine is being written as this runs
        return {"unavailable": f"engine: analyse_cycle failed: {error!r}"}


def group_means(arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Per subject, group and statement: the mean and count of real ratings, as SQL gives."""
    cell = arrays.subject.astype(np.int64) * N_GROUPS + arrays.group
    ratings = arrays.ratings
    if np.any(cell[1:] < cell[:-1]):  # load_cycle gives rows grouped already
        order = np.argsort(cell, kind="stable")
        cell, ratings = cell[order], ratings[order]
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    seen = ~np.isnan(ratings)
    counts = np.add.reduceat(seen.astype(np.int32), starts, axis=0)
    sums = np.add.reduceat(np.where(seen, ratings, 0.0), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cell[starts], sums / counts, counts


def time_sql_means(args: argparse.Namespace) -> dict:
    import sqlite3

    from feedback360.reports.engine.inputs import GROUP_CODE

    connection = sqlite3.connect(args.workdir / "cycle.sqlite")
    # SQLite computes every mean; only a summary crosses into Python, which favours SQL.
    everything = f"SELECT count(*), sum(mean), sum(n) FROM ({SQL_MEANS.format(where='')})"  # noqa: S608
    result = timed(lambda: connection.execute(everything).fetchall(), args.runs)

    # Both give the same numbers: SQL for a sample of subjects against numpy's.
    arrays = saved_arrays(args.workdir)
    request_ids = np.load(args.workdir / "arrays.npz")["request_ids"]
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(len(request_ids), size=min(200, len(request_ids)), replace=False))
    listed = ",".join(str(int(request_ids[s])) for s in sample)
    rows = connection.execute(
        SQL_MEANS.format(where=f"WHERE r.request_id IN ({listed})")  # noqa: S608
    ).fetchall()
    cells, means, counts = group_means(arrays)
    column = {sid: j for j, sid in enumerate(statement_ids(args))}
    subject_of = {int(request_ids[s]): int(s) for s in sample}
    worst = 0.0
    for request_id, group, statement_id, mean, n in rows:
        at = np.searchsorted(cells, subject_of[request_id] * N_GROUPS + GROUP_CODE[group])
        j = column[statement_id]
        assert counts[at, j] == n, (request_id, group, statement_id)
        if n:
            worst = max(worst, abs(means[at, j] - mean))
    # Every response rates every statement (a score or "not seen"), so each cell has a row.
    expected_rows = np.count_nonzero(np.isin(cells // N_GROUPS, sample)) * len(column)
    assert len(rows) == expected_rows, (len(rows), expected_rows)
    assert worst < 1e-9, worst
    result["detail"] = f"{len(rows):,} sampled means agree with numpy's (largest gap {worst:.1e})"
    return result


def statement_ids(args: argparse.Namespace) -> list[int]:
    import sqlite3

    connection = sqlite3.connect(args.workdir / "cycle.sqlite")
    return [
        sid
        for (sid,) in connection.execute(
            "SELECT s.id FROM statement s JOIN value v ON s.value_id = v.id "
            "ORDER BY v.position, s.position"
        )
    ]


def time_loading(args: argparse.Namespace) -> dict:
    from feedback360.reports.loading import load_cycle

    meta = json.loads((args.workdir / "meta.json").read_text())
    url = sqlite_url(args.workdir) if args.stage == "load-sqlite" else args.database_url
    loaded = []

    def load() -> None:
        loaded.clear()  # one cycle in memory at a time, as in use
        loaded.append(load_cycle(meta["cycle_id"]).arrays)

    with app_for(args, url).app_context():
        result = timed(load, args.runs)
    peak = result["maxrss_gib"]
    matches = fingerprint(loaded[-1]) == meta["fingerprint"]
    assert matches, "the loaded arrays differ from the generated answers"
    result["detail"] = f"{loaded[-1].ratings.shape[0]:,} rows; equal to the answers generated"
    result["maxrss_gib"] = peak  # the check above is not part of loading
    return result
