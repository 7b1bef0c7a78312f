"""The benchmark's stages, each run by cycle_engine.py in a fresh process of its own."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

N_GROUPS = 5


def run_stage(args: argparse.Namespace) -> dict:
    stage = args.stage
    if stage in ("generate-sqlite", "generate-postgres"):
        return generate(args)
    if stage in ("load-sqlite", "load-postgres"):
        return time_loading(args)
    arrays = saved_arrays(args.workdir)
    if stage == "engine":
        return time_engine(arrays, args.runs)
    if stage == "numpy-means":
        return time_group_means(arrays, args.runs, args.seed)
    raise SystemExit(f"unknown stage {stage}")


def timed(work, runs: int, detail: str = "") -> dict:
    times, cpu = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    # This process's CPU time beside the wall time: on a shared machine the wall time also
    # holds the waits for a core. A database server's own CPU time is not in it.
    return {
        "times": times,
        "median": statistics.median(times),
        "cpu_median": statistics.median(cpu),
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
        "detail": f"{answers.scores.shape[0]:,} responses, {answers.scores.size:,} scores packed",
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
    """Per subject, group and statement: the mean and count of real ratings."""
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


def time_group_means(arrays, runs: int, seed: int) -> dict:  # type: ignore[no-untyped-def]
    """Time group_means, then check it for a sample of subjects, cell by cell, with nanmean."""
    found = []

    def means() -> None:
        found.clear()  # one result in memory at a time
        found.append(group_means(arrays))

    result = timed(means, runs)
    cells, means_found, counts = found[-1]
    rng = np.random.default_rng(seed)
    sample = rng.choice(arrays.n_subjects, size=min(200, arrays.n_subjects), replace=False)
    worst, checked = 0.0, 0
    for subject in sample.tolist():
        mine = arrays.subject == subject
        for group in np.unique(arrays.group[mine]).tolist():
            rows = arrays.ratings[mine & (arrays.group == group)]
            at = np.searchsorted(cells, subject * N_GROUPS + group)
            seen = (~np.isnan(rows)).sum(axis=0)
            assert np.array_equal(counts[at], seen), (subject, group)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a statement nobody rated
                expected = np.nanmean(rows, axis=0)
            gaps = np.abs(means_found[at] - expected)[seen > 0]
            worst = max(worst, float(gaps.max(initial=0.0)))
            checked += rows.shape[1]
    assert worst < 1e-9, worst
    result["detail"] = f"{checked:,} sampled means agree with nanmean (largest gap {worst:.1e})"
    return result


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
