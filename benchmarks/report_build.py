"""Time the build of one full personal report: data, engine, HTML and PDF.

The subject has 12 raters (1 line manager, 4 peers, 4 direct reports, 3 others) and a
self-assessment, about 8% "not seen" answers and some comments, on the shipped MPS 2006
framework. Their cycle holds 20 such subjects, so the report shows cycle norms, and a
previous report, so it shows change. No database: the framework file is read directly.

    .venv/bin/python benchmarks/report_build.py [--runs 7] [--out report.pdf]

Prints the median of the runs (after one warm-up) for each stage and in total.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

import numpy as np

from feedback360.frameworks.models import _LIST_ENDING
from feedback360.frameworks.services import bundled_framework, read_framework_file
from feedback360.reports.engine.analysis import analyse_cycle
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.results import ReportDocument, StatementText, ValueText
from feedback360.reports.render import report_html, report_pdf

RATERS = ["self", "line_manager"] + ["peer"] * 4 + ["direct_report"] * 4 + ["other"] * 3
SUBJECTS = 20
NOT_SEEN_SHARE = 0.08
COMMENTS = [
    (0, "peer", "Always makes time for the public, even on a busy shift."),
    (0, "direct_report", "Could share the reasons for targets more openly with the team."),
    (1, "line_manager", "Listens well in one-to-ones; team meetings are more one-way."),
    (1, "peer", "Very approachable <b>and</b> honest about what can't be done."),
    (2, "direct_report", "Sometimes decides before hearing everyone out."),
    (3, "other", "Treats partners' staff with the same respect as our own."),
    (3, "peer", "Owns mistakes quickly and fixes them."),
    (2, "direct_report", "Spots and backs new ideas from the front line."),
    (0, "peer", "A steady, fair colleague.\nWould welcome more feedback in return."),
    (2, "direct_report", "Good to work for."),
]


def framework_texts() -> tuple[dict, list[ValueText], list[StatementText]]:
    data = read_framework_file(bundled_framework("mps-2006"))
    values = [ValueText(title=v["title"], summary=v.get("summary", "")) for v in data["values"]]
    statements = [
        StatementText(text=_LIST_ENDING.sub("", text), positive=positive, value_index=index)
        for index, value in enumerate(data["values"])
        for kind, positive in (("we_will", True), ("we_will_not", False))
        for text in value.get(kind, [])
    ]
    return data, values, statements


def cycle_arrays(statements: list[StatementText], n_values: int, scale: int) -> CycleArrays:
    """Answers for the cycle: each subject has a level, raters scatter around it."""
    rng = np.random.default_rng(2026)
    n_statements = len(statements)
    positive = np.array([s.positive for s in statements])
    level = rng.uniform(2.5, 4.5, size=(SUBJECTS, 1, n_statements))
    wanted = np.where(positive, level, scale + 1 - level)
    noise = rng.normal(0, 0.9, size=(SUBJECTS, len(RATERS), n_statements))
    ratings = np.clip(np.rint(wanted + noise), 1, scale)
    ratings[rng.random(ratings.shape) < NOT_SEEN_SHARE] = np.nan
    ratings[:, 0][np.isnan(ratings[:, 0])] = 3  # the self-assessment answers everything
    previous = np.clip(level.mean(axis=2) + rng.normal(0, 0.3, (SUBJECTS, n_values)), 1, scale)
    return CycleArrays(
        ratings=ratings.reshape(-1, n_statements),
        subject=np.repeat(np.arange(SUBJECTS), len(RATERS)),
        group=np.tile(np.array([GROUP_CODE[g] for g in RATERS], dtype=np.int8), SUBJECTS),
        statement_value=np.array([s.value_index for s in statements]),
        statement_positive=positive,
        n_subjects=SUBJECTS,
        n_values=n_values,
        scale_points=scale,
        previous_value_scores=previous,
    )


def build(out: Path | None = None) -> dict[str, float]:
    """One report from scratch, each stage timed."""
    times: dict[str, float] = {}
    began = time.perf_counter()
    data, values, statements = framework_texts()
    arrays = cycle_arrays(statements, len(values), len(data["scale"]))
    settings = CycleSettings()
    times["data"] = time.perf_counter() - began

    began = time.perf_counter()
    result = analyse_cycle(arrays, settings).report(0, COMMENTS, seed=17)
    document = ReportDocument(
        subject_name="Alex Morgan",
        subject_first_name="Alex",
        cycle_name="Spring 2026",
        framework_name=data["name"],
        preamble=data.get("preamble", ""),
        scale=list(data["scale"]),
        generated_on=date(2026, 3, 31),
        threshold=settings.k,
        values=values,
        statements=statements,
        result=result,
    )
    times["engine"] = time.perf_counter() - began

    began = time.perf_counter()
    report_html(document, pdf_url="report.pdf", settings=settings)
    times["html"] = time.perf_counter() - began

    began = time.perf_counter()
    pdf = report_pdf(document, settings=settings)
    times["pdf"] = time.perf_counter() - began
    times["total"] = sum(times.values())
    if out is not None:
        out.write_bytes(pdf)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the report's PDF here")
    args = parser.parse_args()
    build(args.out)  # warm-up: imports, fonts, templates, caches
    runs = [build() for _ in range(args.runs)]
    for stage in runs[0]:
        median = statistics.median(run[stage] for run in runs)
        print(f"{stage:>6}: {median * 1000:7.1f} ms")
    if args.out is not None:
        from pypdf import PdfReader

        print(f" pages: {len(PdfReader(args.out).pages)}")


if __name__ == "__main__":
    main()
