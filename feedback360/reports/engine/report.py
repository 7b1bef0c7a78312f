"""One subject's report built from the cycle's arrays: cells, values, insights, comments."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from feedback360.groups import ALL_RATERS, GROUPS, LABELS, OTHER_RATERS, POOLED, RATER_GROUPS, SELF
from feedback360.reports.engine.aggregate import cell_sums
from feedback360.reports.engine.aggregate import rwg as agreement_rwg
from feedback360.reports.engine.columns import (
    ALL_COLUMN,
    COLUMNS,
    POOL_COLUMN,
    SELF_COLUMN,
    SUBTRACTION,
    TOO_FEW,
    VISIBLE,
    group_columns,
)
from feedback360.reports.engine.insights import agreement, highlights, mixed_values, norm
from feedback360.reports.engine.printed import printed, printed_difference
from feedback360.reports.engine.results import (
    Cell,
    Column,
    GroupStatus,
    ReportResult,
    ShownComment,
    StatementResult,
    ValueResult,
)
from feedback360.reports.engine.serious import serious_negatives
from feedback360.reports.engine.start_here import priorities, strengths

if TYPE_CHECKING:
    from feedback360.reports.engine.cycle import CycleAnalysis


def build_report(
    analysis: CycleAnalysis, subject: int, comments: Sequence[tuple[int, str, str]], seed: int
) -> ReportResult:
    """Turn one subject's slice of the cycle's arrays into the report's plain data."""
    settings, framework = analysis.settings, analysis.framework
    responses = analysis.responses[subject]
    shown = analysis.column_shown[subject]
    pooled = analysis.pooled[subject]
    column_responses = group_columns(responses[None], pooled[None])[0]
    indices = np.flatnonzero(shown)
    # A column holding every rater ("Other raters" when all are pooled, or the one group
    # that responded) says cell for cell what "All raters" says: the report shows the one.
    same_as_all = [
        c
        for c in indices
        if c not in (SELF_COLUMN, ALL_COLUMN)
        and shown[ALL_COLUMN]
        and column_responses[c] == column_responses[ALL_COLUMN]
    ]
    pool_is_everyone = POOL_COLUMN in same_as_all
    indices = indices[~np.isin(indices, same_as_all)]
    keys = [COLUMNS[c] for c in indices]
    total = int(responses[1:].sum())
    rater_scores_shown = bool(analysis.rater_scores_shown[subject])
    notes = [
        f"Every rater is in one group, {LABELS[COLUMNS[c]]}, so “All raters” shows their"
        f" answers and there is no separate {LABELS[COLUMNS[c]]} column."
        for c in same_as_all
        if c != POOL_COLUMN
    ]
    if rater_scores_shown and not shown[ALL_COLUMN]:
        pool = int(column_responses[POOL_COLUMN])
        notes.append(
            f"All raters is not shown: apart from the line manager, only {_people(pool)}"
            f" responded, and at least {settings.k} are needed."
        )

    statements = _statement_results(analysis, subject, indices, column_responses)
    mixed = mixed_values(
        statements, framework.statement_value, framework.n_values, settings.blind_spot_gap
    )
    values = _value_results(analysis, subject, indices, mixed)
    own = [g for c, g in enumerate(GROUPS) if c != SELF_COLUMN and shown[c]]
    labels: dict[str, str | None] = {SELF: LABELS[SELF]} | {g: LABELS[g] for g in own}
    if shown[POOL_COLUMN]:
        # Labelled "Other raters" only where that column shows; when it would say no more
        # than "All raters", the comment carries no label.
        pool_label = None if pool_is_everyone else LABELS[OTHER_RATERS]
        labels |= {g: pool_label for c, g in enumerate(GROUPS) if pooled[c]}
        labels[POOLED] = pool_label
    norms = [r.norm.subjects for r in (*statements, *values) if r.norm is not None]
    picked = highlights(statements, framework.statement_positive, settings)
    serious = (
        serious_negatives(statements, framework.statement_serious, settings)
        if rater_scores_shown
        else []
    )
    return ReportResult(
        columns=[
            Column(key, LABELS[key], int(column_responses[c]))
            for key, c in zip(keys, indices, strict=True)
        ],
        groups=[
            GroupStatus(g, LABELS[g], int(responses[c]), bool(shown[c]))
            for c, g in enumerate(GROUPS)
            if g in RATER_GROUPS and responses[c]
        ],
        total_responses=total,
        rater_scores_shown=rater_scores_shown,
        withheld_reason=None if rater_scores_shown else _withheld_reason(total, settings.k),
        statements=statements,
        values=values,
        comments=_shown_comments(comments, labels, framework.n_values, seed),
        notes=notes,
        **picked,
        serious_negatives=serious,
        # The most subjects behind any of this report's norms; 0 when it shows none.
        norm_subjects=max(norms, default=0),
        strengths=strengths(picked["highest"], picked["hidden_strengths"], settings),
        priorities=priorities(
            serious,
            picked["blind_spots"],
            picked["lowest"],
            picked["most_seen_negative"],
            settings,
        ),
        self_outside_spread=[s.index for s in statements if _self_outside_spread(s)],
    )


def _statement_results(
    analysis: CycleAnalysis, subject: int, indices: np.ndarray, column_responses: np.ndarray
) -> list[StatementResult]:
    """Build the per-statement cells; a blank cell keeps its counts but nothing else."""
    k, flag = analysis.settings.k, analysis.settings.rwg_flag
    reasons = {
        VISIBLE: None,
        TOO_FEW: f"Fewer than {k} ratings",
        SUBTRACTION: f"Hidden so that fewer than {k} ratings cannot be worked out from others",
    }
    by_group = analysis.group_points[subject, None].astype(np.int64)
    by_column = group_columns(by_group, analysis.pooled[subject, None])[0]
    rwg = agreement_rwg(by_column[ALL_COLUMN], analysis.reason[subject, ALL_COLUMN] == VISIBLE)
    rwg = rwg.tolist()
    n, total, squares = cell_sums(by_column[indices])
    # (columns, statements, points): each cell's count of each scale point
    points = by_column[indices].transpose(0, 2, 1)
    reason = analysis.reason[subject, indices]
    visible = (reason == VISIBLE) & (n > 0)
    mean, variance = np.full(n.shape, np.nan), np.zeros(n.shape)
    np.divide(total, n, out=mean, where=visible)
    # Sample sd (ddof=1): the raters are a sample of everyone who sees the subject at work.
    # One rating has no spread, so it is 0.0 rather than undefined.
    np.divide(n * squares - total**2, n * (n - 1), out=variance, where=visible & (n > 1))
    seen = points > 0
    low = seen.argmax(axis=-1) + 1
    high = points.shape[-1] - seen[..., ::-1].argmax(axis=-1)
    not_seen = column_responses[indices, None] - n
    keys = [COLUMNS[c] for c in indices]
    everyone = keys.index(ALL_RATERS) if ALL_RATERS in keys else None
    own = keys.index(SELF) if SELF in keys else None
    positive = analysis.framework.statement_positive.tolist()
    norms = analysis.statement_norms
    percentiles = norms.percentile(printed(analysis.others[subject])).tolist()
    # Gaps between the numbers as printed, so a gap never narrows down either of them.
    gaps = np.full(n.shape[1], np.nan)
    if everyone is not None and own is not None:
        gaps = printed_difference(mean[everyone], mean[own])
    gaps = gaps.tolist()

    columns = zip(
        *(a.T.tolist() for a in (n, not_seen, mean, np.sqrt(variance), low, high, reason)),
        strict=True,
    )
    results = []
    for s, by_column in enumerate(columns):
        cells = {}
        for c, (key, count, unseen, m, sd, lo, hi, why) in enumerate(
            zip(keys, *by_column, strict=True)
        ):
            if math.isnan(m):
                cells[key] = Cell(count, unseen, None, None, None, None, reasons[why])
                continue
            spread = tuple(points[c, s].tolist()) if c == everyone else None
            cells[key] = Cell(count, unseen, m, sd, lo, hi, reasons[why], spread)
        gap = _optional(gaps[s])
        results.append(
            StatementResult(
                index=s,
                cells=cells,
                gap=gap,
                # For "We will not" seen more often than the person thinks reads worse.
                outlook=None if gap is None else (gap if positive[s] else -gap),
                rwg=_optional(rwg[s]),
                raters_disagree=not math.isnan(rwg[s]) and rwg[s] < flag,
                norm=norm(norms, s, percentiles[s]),
            )
        )
    return results


def _value_results(
    analysis: CycleAnalysis, subject: int, indices: np.ndarray, mixed: list[bool]
) -> list[ValueResult]:
    """Each value's shown scores per column, the self-other gap, agreement, norm and change.

    mixed: per value, whether its statements have large gaps both ways (never "agreement").
    """
    scores = analysis.value_scores[subject]
    keys = [COLUMNS[c] for c in indices]
    percentiles = analysis.value_norms.percentile(printed(scores[ALL_COLUMN])).tolist()
    gaps = printed_difference(scores[ALL_COLUMN], scores[SELF_COLUMN]).tolist()
    results = []
    for v in range(analysis.framework.n_values):
        own, others = scores[SELF_COLUMN, v], scores[ALL_COLUMN, v]
        gap = _optional(gaps[v])  # NaN unless both are shown
        results.append(
            ValueResult(
                index=v,
                scores={key: _optional(scores[c, v]) for key, c in zip(keys, indices, strict=True)},
                gap=gap,
                agreement=(
                    None if gap is None else agreement(own, others, analysis.settings, mixed[v])
                ),
                norm=norm(analysis.value_norms, v, percentiles[v]),
                change=_optional(analysis.change[subject, v]),
            )
        )
    return results


def _shown_comments(
    comments: Sequence[tuple[int, str, str]],
    labels: dict[str, str | None],
    n_values: int,
    seed: int,
) -> list[ShownComment]:
    """Keep comments only from groups shown somewhere, labelled as shown, in random order."""
    for value_index, group, _ in comments:
        if group not in (*GROUPS, POOLED) or not 0 <= value_index < n_values:
            raise ValueError(f"A comment has an unknown group or value: {group}, {value_index}.")
    # A comment from a group in no shown column would speak for fewer than k people.
    kept = [ShownComment(v, text, labels[g]) for v, g, text in comments if g in labels]
    order = np.random.default_rng(seed).permutation(len(kept))
    return [kept[i] for i in order]


def _self_outside_spread(statement: StatementResult) -> bool:
    """The self score as printed is below the lowest or above the highest rating shown."""
    own, everyone = statement.cells.get(SELF), statement.cells.get(ALL_RATERS)
    if own is None or own.mean is None or everyone is None or everyone.low is None:
        return False
    return not everyone.low <= float(printed(own.mean)) <= everyone.high


def _withheld_reason(total: int, k: int) -> str:
    who = "No one has responded yet" if total == 0 else f"Only {_people(total)} responded"
    return f"{who}; at least {k} are needed before any rater scores are shown."


def _people(count: int) -> str:
    return "1 person has" if count == 1 else f"{count} people have"


def _optional(x: float) -> float | None:
    return None if math.isnan(x) else float(x)
