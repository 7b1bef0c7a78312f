"""A whole cycle at once: every subject's columns, cells, value scores, norms and change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from feedback360.reports.engine.aggregate import (
    Block,
    Framework,
    analyse_block,
    cell_sums,
    rating_codes,
    rwg,
)
from feedback360.reports.engine.columns import (
    ALL_COLUMN,
    COLUMNS,
    N_GROUPS,
    N_LABELS,
    POOLED_LABEL,
    VISIBLE,
    group_columns,
)
from feedback360.reports.engine.inputs import CycleArrays, CycleSettings
from feedback360.reports.engine.norms import Norms, cycle_norms
from feedback360.reports.engine.printed import printed, printed_difference
from feedback360.reports.engine.results import ReportResult

# Subjects analysed together: enough to keep numpy busy, few enough that a block's working
# arrays stay in cache and are reused rather than fetched fresh from the system each time.
BLOCK_SUBJECTS = 1024


@dataclass(frozen=True, eq=False)
class CycleAnalysis(Block):
    """Every report of a cycle as arrays indexed by subject; `report()` builds one of them.

    Columns are always the seven of COLUMNS (self, line manager, peers, direct reports,
    others, other raters, all raters); `column_shown` says which a subject's report shows,
    and a cell's reason code whether it is shown (VISIBLE) or why not. Counts are kept for
    hidden cells too: they say how many answered, never what.
    """

    settings: CycleSettings
    framework: Framework
    statement_norms: Norms  # over "All raters" means as printed
    value_norms: Norms  # over "All raters" value scores as printed
    # (subjects, values) "All raters" value score now − previous, as printed, or NaN
    change: np.ndarray

    @property
    def n_subjects(self) -> int:
        return len(self.responses)

    # Whole-cycle views for summaries; a single report works from its own subject's rows.
    @cached_property
    def points(self) -> np.ndarray:
        """(subjects, 7, scale points, statements): ratings of each point, per column."""
        return group_columns(self.group_points, self.pooled)

    @cached_property
    def column_responses(self) -> np.ndarray:
        """(subjects, 7): responses in each column, whether shown or not."""
        return group_columns(self.responses, self.pooled)

    @cached_property
    def n(self) -> np.ndarray:
        """(subjects, 7, statements): ratings in each cell, "Not seen" excluded."""
        return self.points.sum(axis=2, dtype=np.int64)

    @property
    def not_seen(self) -> np.ndarray:
        """(subjects, 7, statements): responses in each cell that said "Not seen"."""
        return self.column_responses[:, :, None] - self.n

    @cached_property
    def means(self) -> np.ndarray:
        """(subjects, 7, statements): each shown cell's mean, NaN where nothing is shown."""
        n, total, _ = cell_sums(self.points)
        means = np.full(n.shape, np.nan)
        np.divide(total, n, out=means, where=(self.reason == VISIBLE) & (n > 0))
        return means

    @cached_property
    def rwg(self) -> np.ndarray:
        """(subjects, statements): agreement among all raters where their cell is shown."""
        return rwg(self.group_points[:, 1:].sum(axis=1), self.reason[:, ALL_COLUMN] == VISIBLE)

    def report(
        self, subject: int, comments: Sequence[tuple[int, str, str]] = (), seed: int = 0
    ) -> ReportResult:
        """One subject's report: what the anonymity rules let them see, and the insights."""
        from feedback360.reports.engine.report import build_report

        if not 0 <= subject < self.n_subjects:
            raise IndexError(f"There is no subject {subject} in this cycle.")
        return build_report(self, subject, comments, seed)


def analyse_cycle(arrays: CycleArrays, settings: CycleSettings) -> CycleAnalysis:
    """Analyse every subject of a cycle at once, showing only what the anonymity rules allow."""
    framework, ratings, subject, group, counts = _checked(arrays, settings)
    n_subjects = arrays.n_subjects
    order = None
    if np.any(subject[1:] < subject[:-1]):
        order = np.argsort(subject, kind="stable")
        subject = subject[order]
    per_subject = np.bincount(subject, minlength=n_subjects)
    cells = _allocate(n_subjects, ratings.shape[1], framework, int(per_subject.max(initial=0)))
    bounds = np.concatenate([[0], np.cumsum(per_subject)])
    as_stored = np.ones(n_subjects, dtype=bool)
    for first in range(0, n_subjects, BLOCK_SUBJECTS):
        last = min(first + BLOCK_SUBJECTS, n_subjects)
        begin, end = bounds[first], bounds[last]
        rows = slice(begin, end) if order is None else order[begin:end]
        segment = (subject[begin:end] - first) * N_LABELS + group[rows]
        codes = rating_codes(ratings[rows], framework.scale_points)
        block_counts = None if counts is None else counts[first:last]
        as_stored[first:last] = analyse_block(
            codes, segment, framework, settings, cells.slice(first, last), block_counts
        )

    doubled = np.flatnonzero(cells.responses[:, 0] > 1)
    if len(doubled):
        raise ValueError(
            f"A report has at most one self-assessment; subject {doubled[0]} has "
            f"{cells.responses[doubled[0], 0]}."
        )
    if not as_stored.all():
        raise ValueError(
            f"Subject {np.flatnonzero(~as_stored)[0]}'s rows do not match group_counts: only"
            " a group shown on its own is stored under its own label, with all its"
            ' responses, and only a shown "Other raters" under the pooled label.'
        )
    minimum = max(settings.norm_min_subjects, settings.k)
    everyone = cells.value_scores[:, ALL_COLUMN]
    change = np.full(everyone.shape, np.nan)
    if arrays.previous_value_scores is not None:
        change = printed_difference(everyone, np.asarray(arrays.previous_value_scores, float))
    # Norms place printed scores among printed scores: a percentile or quartile must not
    # tell two scores apart that print the same.
    points = framework.scale_points
    return CycleAnalysis(
        **vars(cells),
        settings=settings,
        framework=framework,
        statement_norms=cycle_norms(printed(cells.others), minimum, points),
        value_norms=cycle_norms(printed(everyone), minimum, points),
        change=change,  # NaN wherever either score is not shown
    )


def _allocate(n_subjects: int, n_statements: int, framework: Framework, most: int) -> Block:
    """Empty whole-cycle arrays, their counts as small as the busiest subject allows."""
    count_type = np.uint8 if most <= 0xFF else np.uint16 if most <= 0xFFFF else np.uint32
    shape, n_values = (n_subjects, len(COLUMNS)), framework.n_values
    return Block(
        responses=np.zeros((n_subjects, N_GROUPS), np.int64),
        rater_scores_shown=np.zeros(n_subjects, bool),
        pooled=np.zeros((n_subjects, N_GROUPS), bool),
        column_shown=np.zeros(shape, bool),
        group_points=np.zeros(
            (n_subjects, N_LABELS, framework.scale_points, n_statements), count_type
        ),
        reason=np.zeros((*shape, n_statements), np.uint8),
        others=np.full((n_subjects, n_statements), np.nan),
        value_ratings=np.zeros((*shape, n_values), np.int64),
        value_reason=np.zeros((*shape, n_values), np.uint8),
        value_scores=np.full((*shape, n_values), np.nan),
    )


def _checked(
    arrays: CycleArrays, settings: CycleSettings
) -> tuple[Framework, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Refuse input that would make a report wrong rather than merely empty."""
    if settings.k < 2:
        raise ValueError(f"The anonymity threshold must be at least 2, not {settings.k}.")
    if not 2 <= arrays.scale_points <= 0xFF:
        raise ValueError(f"A rating scale needs from 2 to 255 points, not {arrays.scale_points}.")
    ratings = np.asarray(arrays.ratings)  # converted block by block, never copied whole
    subject = np.asarray(arrays.subject).astype(np.intp, copy=False)
    group = np.asarray(arrays.group).astype(np.intp, copy=False)
    values = np.asarray(arrays.statement_value).astype(np.intp, copy=False)
    positive = np.asarray(arrays.statement_positive, dtype=bool)
    n_subjects, n_values = arrays.n_subjects, arrays.n_values
    if ratings.ndim != 2 or subject.shape != (len(ratings),) or group.shape != subject.shape:
        raise ValueError(
            "ratings must have one row per response and one column per statement, and "
            "subject and group one entry per response."
        )
    if values.shape != (ratings.shape[1],) or positive.shape != values.shape:
        raise ValueError("statement_value and statement_positive need one entry per statement.")
    if np.any((values < 0) | (values >= n_values)):
        raise ValueError(f"Every statement must belong to a value from 0 to {n_values - 1}.")
    if np.any((group < 0) | (group >= N_LABELS)):
        unknown = np.unique(group[(group < 0) | (group >= N_LABELS)]).tolist()
        raise ValueError(f"Unknown rater group codes: {unknown}.")
    if np.any((subject < 0) | (subject >= n_subjects)):
        raise ValueError(f"Every response must belong to a subject from 0 to {n_subjects - 1}.")
    previous = arrays.previous_value_scores
    if previous is not None and np.shape(previous) != (n_subjects, n_values):
        raise ValueError("previous_value_scores needs a row per subject and a column per value.")
    counts = _group_counts(arrays.group_counts, n_subjects)
    if counts is None and np.any(group == POOLED_LABEL):
        raise ValueError(
            "A response stored under the pooled label needs group_counts: the rules must"
            " see how many each group gave."
        )
    serious = np.zeros(positive.shape, dtype=bool)
    if arrays.statement_serious is not None:
        serious = np.asarray(arrays.statement_serious, dtype=bool)
        if serious.shape != positive.shape or np.any(serious & positive):
            raise ValueError(
                'statement_serious needs one entry per statement, and only a "We will not"'
                " statement can be serious."
            )
    framework = Framework(values, positive, n_values, arrays.scale_points, serious)
    return framework, ratings, subject, group, counts


def _group_counts(counts: np.ndarray | None, n_subjects: int) -> np.ndarray | None:
    if counts is None:
        return None
    counts = np.asarray(counts)
    if counts.shape != (n_subjects, N_GROUPS):
        raise ValueError(f"group_counts needs a row per subject and {N_GROUPS} groups.")
    if not np.issubdtype(counts.dtype, np.integer) or np.any(counts < 0):
        raise ValueError("group_counts must be whole numbers of responses, none below 0.")
    return counts.astype(np.int64)
