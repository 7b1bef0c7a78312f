"""One block of subjects at a time: ratings in, counts, visibility and scores out."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from feedback360.disclosure import plan_columns
from feedback360.reports.engine.columns import (
    ABSENT,
    ALL_COLUMN,
    N_GROUPS,
    N_LABELS,
    POOL_COLUMN,
    POOLED_LABEL,
    SUBTRACTION,
    TOO_FEW,
    VISIBLE,
    exempt_columns,
    group_columns,
    hide_cells,
)
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.values import value_membership, value_sums


@dataclass(frozen=True)
class Framework:
    """What the engine needs of a framework, worked out once per cycle."""

    statement_value: np.ndarray
    statement_positive: np.ndarray
    n_values: int
    scale_points: int
    # (statements,) serious "We will not" statements; all False when the framework names none
    statement_serious: np.ndarray | None = None

    @cached_property
    def membership(self) -> np.ndarray:
        """(statements, values): 1.0 where the statement belongs to the value."""
        return value_membership(self.statement_value, self.n_values)


@dataclass(frozen=True)
class Block:
    """What the engine keeps per subject; a block holds views into the cycle's arrays."""

    responses: np.ndarray  # (subjects, 5) responses per group, self included
    rater_scores_shown: np.ndarray  # (subjects,) rule 3
    pooled: np.ndarray  # (subjects, 5) groups pooled into "Other raters"
    column_shown: np.ndarray  # (subjects, 7)
    # (subjects, 6, scale points, statements) ratings of each point, per row label
    group_points: np.ndarray
    reason: np.ndarray  # (subjects, 7, statements) VISIBLE, TOO_FEW, SUBTRACTION or ABSENT
    others: np.ndarray  # (subjects, statements) "All raters" mean where shown, else NaN
    value_ratings: np.ndarray  # (subjects, 7, values) ratings in the shown cells of a value
    value_reason: np.ndarray  # (subjects, 7, values) VISIBLE or why none of its cells shows
    value_scores: np.ndarray  # (subjects, 7, values) shown scores, else NaN

    def slice(self, begin: int, end: int) -> Block:
        return Block(**{f.name: getattr(self, f.name)[begin:end] for f in fields(Block)})


def rating_codes(ratings: np.ndarray, scale_points: int) -> np.ndarray:
    """Ratings as small integer codes, 0 for "Not seen"; refuses all but whole scale points."""
    ratings = np.asarray(ratings, dtype=float)
    not_seen = np.isnan(ratings)
    filled = np.where(not_seen, 0.0, ratings)
    with np.errstate(invalid="ignore"):  # out-of-range values are caught just below
        codes = filled.astype(np.uint8)
    if (
        not np.array_equal(codes, filled)
        or codes.max(initial=0) > scale_points
        or np.count_nonzero(codes) != codes.size - np.count_nonzero(not_seen)
    ):
        raise ValueError(f"Ratings must be whole numbers from 1 to {scale_points}.")
    return codes


def analyse_block(
    codes: np.ndarray,
    segment: np.ndarray,
    framework: Framework,
    settings: CycleSettings,
    out: Block,
    group_counts: np.ndarray | None = None,
) -> np.ndarray:
    """Fill out, for its subjects, with what rules 1–4 allow; segment = subject × 6 + label.

    The rules read group_counts (subjects, 5) where given, else the rows' own count.
    Returns, per subject, whether its rows are what the close stores for those counts
    (always true without them).
    """
    n_subjects, n_statements = len(out.responses), codes.shape[1]
    width = framework.scale_points + 1
    # One histogram gives every count, sum, extreme and distribution: ratings are points.
    # Laid out (subject, label, point, statement) so each point's counts are contiguous.
    index = np.multiply(codes, n_statements, dtype=np.intp)
    index += (segment * (width * n_statements))[:, None]
    index += np.arange(n_statements)
    counts = np.bincount(index.ravel(), minlength=n_subjects * N_LABELS * width * n_statements)
    counts = counts.reshape(n_subjects, N_LABELS, width, n_statements)
    out.group_points[...] = counts[:, :, 1:]
    rows = np.bincount(segment, minlength=n_subjects * N_LABELS).reshape(-1, N_LABELS)
    responses = rows[:, :N_GROUPS] if group_counts is None else group_counts
    out.responses[...] = responses

    k, identifiable = settings.k, settings.manager_identifiable
    shown, pooled, column_shown = plan_columns(responses, k, identifiable)
    out.rater_scores_shown[...] = shown
    out.pooled[...] = pooled
    out.column_shown[...] = column_shown
    as_stored = np.ones(n_subjects, dtype=bool)
    if group_counts is not None:
        as_stored = _rows_as_stored(rows, responses, pooled, column_shown)
    exempt = exempt_columns(identifiable)
    points = counts[:, :, 1:]
    n = group_columns(points.sum(axis=2), pooled)  # (subjects, 7, statements) ratings
    total = group_columns(np.einsum("p,glps->gls", np.arange(1, width), points), pooled)
    out.reason[...] = hide_cells(n, column_shown, exempt, k)
    out.others[...] = np.nan
    everyone = n[:, ALL_COLUMN]
    visible = (out.reason[:, ALL_COLUMN] == VISIBLE) & (everyone > 0)
    np.divide(total[:, ALL_COLUMN], everyone, out=out.others, where=visible)
    _value_scores(n, total, framework, out)
    return as_stored


def _value_scores(n: np.ndarray, total: np.ndarray, framework: Framework, out: Block) -> None:
    """Each column's value scores from its shown statement cells alone (see engine.values).

    A value with ratings but none in a shown cell is hidden for its cells' reason: too few
    if any cell is, else subtraction.
    """
    reason, membership = out.reason, framework.membership
    shown = (reason == VISIBLE) & (n > 0)
    held, sums = value_sums(
        n, total, shown, membership, framework.statement_positive, framework.scale_points
    )
    out.value_ratings[...] = held
    rated = (n > 0).astype(float) @ membership > 0
    too_few = ((reason == TOO_FEW) & (n > 0)).astype(float) @ membership > 0
    hidden = np.where(too_few, TOO_FEW, SUBTRACTION)
    out.value_reason[...] = np.where(
        ~out.column_shown[:, :, None], ABSENT, np.where(rated & (held == 0), hidden, VISIBLE)
    )
    out.value_scores[...] = np.nan
    np.divide(sums, held, out=out.value_scores, where=held > 0)


def _rows_as_stored(
    rows: np.ndarray, responses: np.ndarray, pooled: np.ndarray, column_shown: np.ndarray
) -> np.ndarray:
    """Per subject: are its rows (subjects, 6 labels) what the close keeps of responses?

    Each group shown on its own keeps all its responses; a shown "Other raters" keeps its
    groups' responses under the pooled label; nothing else is kept.
    """
    expected = np.zeros_like(rows)
    expected[:, :N_GROUPS] = np.where(column_shown[:, :N_GROUPS], responses, 0)
    pool = np.where(pooled, responses, 0).sum(axis=1)
    expected[:, POOLED_LABEL] = np.where(column_shown[:, POOL_COLUMN], pool, 0)
    return np.all(rows == expected, axis=1)


def cell_sums(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(…, scale points, statements) counts → ratings, their sum and sum of squares."""
    points = points.astype(np.int64, copy=False)
    scale = np.arange(1, points.shape[-2] + 1)
    return points.sum(axis=-2), scale @ points, scale**2 @ points


def rwg(points: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Agreement among raters per cell, NaN where not shown or fewer than two ratings.

    r_wg = 1 − s² / σ²_E against a uniform null, σ²_E = (A² − 1) / 12, truncated to 0..1.
    """
    n, total, squares = (x.astype(float) for x in cell_sums(points))
    variance = np.full(n.shape, np.nan)
    np.divide(n * squares - total**2, n * (n - 1), out=variance, where=visible & (n > 1))
    null = (points.shape[-2] ** 2 - 1) / 12
    return np.clip(1 - variance / null, 0.0, 1.0)
