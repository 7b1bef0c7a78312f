"""The analysis engine: a cycle's ratings in, what each report may show out.

`analyse_cycle` works on a whole cycle at once (see `engine/`); `analyse` is the same for
one subject's responses, for callers that build a single report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedback360.reports.engine.cycle import CycleAnalysis, analyse_cycle
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.results import ReportResult

__all__ = ["CycleAnalysis", "analyse", "analyse_cycle"]


def analyse(
    ratings: np.ndarray,
    groups: Sequence[str],
    statement_values: np.ndarray,
    statement_positive: np.ndarray,
    *,
    n_values: int,
    k: int = 3,
    manager_identifiable: bool = False,
    scale_points: int = 5,
    comments: Sequence[tuple[int, str, str]] = (),
    seed: int = 0,
) -> ReportResult:
    """Aggregate one report's responses, showing only what the anonymity rules allow."""
    unknown = sorted(set(groups) - set(GROUP_CODE))
    if unknown:
        raise ValueError(f"Unknown rater groups: {', '.join(unknown)}.")
    ratings = np.asarray(ratings, dtype=float)
    arrays = CycleArrays(
        ratings=ratings,
        subject=np.zeros(len(groups), dtype=np.intp),
        group=np.array([GROUP_CODE[g] for g in groups], dtype=np.int8),
        statement_value=np.asarray(statement_values),
        statement_positive=np.asarray(statement_positive),
        n_subjects=1,
        n_values=n_values,
        scale_points=scale_points,
    )
    settings = CycleSettings(k=k, manager_identifiable=manager_identifiable)
    return analyse_cycle(arrays, settings).report(0, comments, seed)
