"""One block of subjects at a time: ratings in, counts, visibility and scores out."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from feedback360.reports.engine.columns import (
    ALL_COLUMN,
    N_GROUPS,
    VISIBLE,
    exempt_columns,
    group_columns,
    hide_cells,
    plan_columns,
)
from feedback360.reports.inputs import CycleSettings


@dataclass(frozen=True)
class Framework:
    """What the engine needs of a framework, worked out once per cycle."""

    statement_value: np.ndarray
    statement_positive: np.ndarray
    n_values: int
    scale_points: int

    @cached_property
    def value_packing(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """How ratings are packed for value sums: lookup, order, offsets, bounds and shift.

        Statements are taken in value order so each value is one run of columns; a rating
        is looked up (at its code, moved up by scale_points + 1 for a "We will not") as
        (1 << shift) + its score, negatives reversed to scale_points + 1 − x.
        """
        points = self.scale_points
        sizes = np.bincount(self.statement_value, minlength=self.n_values)
        largest = int(sizes.max(initial=1))
        shift = (points * largest).bit_length()
        bits = shift + largest.bit_length()
        kind = np.uint16 if bits <= 16 else np.uint32 if bits <= 32 else np.uint64
        scores = np.arange(1, points + 1)
        lookup = np.zeros(2 * (points + 1), dtype=kind)
        lookup[1 : points + 1] = (1 << shift) + scores
        lookup[points + 2 :] = (1 << shift) + scores[::-1]
        order = np.argsort(self.statement_value, kind="stable")
        offsets = np.where(self.statement_positive[order], 0, points + 1).astype(np.uint16)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        return lookup, order, offsets, bounds, shift


@dataclass(frozen=True)
class Block:
    """What the engine keeps per subject; a block holds views into the cycle's arrays."""

    responses: np.ndarray  # (subjects, 5) responses per group, self included
    rater_scores_shown: np.ndarray  # (subjects,) rule 3
    pooled: np.ndarray  # (subjects, 5) groups pooled into "Other raters"
    column_shown: np.ndarray  # (subjects, 7)
    group_points: np.ndarray  # (subjects, 5, scale points, statements) ratings of each point
    reason: np.ndarray  # (subjects, 7, statements) VISIBLE, TOO_FEW, SUBTRACTION or ABSENT
    others: np.ndarray  # (subjects, statements) "All raters" mean where shown, else NaN
    value_responses: np.ndarray  # (subjects, 7, values) responses counted in each score
    value_reason: np.ndarray  # (subjects, 7, values)
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
) -> None:
    """Fill out, for its subjects, with what rules 1–4 allow; segment = subject × 5 + group."""
    n_subjects, n_statements = len(out.responses), codes.shape[1]
    width = framework.scale_points + 1
    # One histogram gives every count, sum, extreme and distribution: ratings are points.
    # Laid out (subject, group, point, statement) so each point's counts are contiguous.
    index = np.multiply(codes, n_statements, dtype=np.intp)
    index += (segment * (width * n_statements))[:, None]
    index += np.arange(n_statements)
    counts = np.bincount(index.ravel(), minlength=n_subjects * N_GROUPS * width * n_statements)
    counts = counts.reshape(n_subjects, N_GROUPS, width, n_statements)
    out.group_points[...] = counts[:, :, 1:]
    responses = np.bincount(segment, minlength=n_subjects * N_GROUPS).reshape(-1, N_GROUPS)
    out.responses[...] = responses

    k, identifiable = settings.k, settings.manager_identifiable
    shown, pooled, column_shown = plan_columns(responses, k, identifiable)
    out.rater_scores_shown[...] = shown
    out.pooled[...] = pooled
    out.column_shown[...] = column_shown
    exempt = exempt_columns(identifiable)
    seen = responses[:, :, None] - counts[:, :, 0]
    n = group_columns(seen.astype(np.int32), pooled)
    out.reason[...] = hide_cells(n, column_shown, exempt, k)
    count, total, _ = cell_sums(counts[:, 1:, 1:].sum(axis=1))
    out.others[...] = np.nan
    visible = (out.reason[:, ALL_COLUMN] == VISIBLE) & (count > 0)
    np.divide(total, count, out=out.others, where=visible)

    # A value score takes each counted response's ratings of that value whole, including
    # those in statement cells hidden above: the score is a mean over at least k responses
    # (or is self or the identifiable manager) and passes rule 4 on its own counts below.
    value_responses, value_totals = _value_sums(codes, segment, n_subjects, framework)
    group_columns(value_responses, pooled, out=out.value_responses)
    out.value_reason[...] = hide_cells(out.value_responses, column_shown, exempt, k)
    out.value_scores[...] = np.nan
    np.divide(
        group_columns(value_totals, pooled),
        out.value_responses,
        out=out.value_scores,
        where=(out.value_reason == VISIBLE) & (out.value_responses > 0),
    )


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


def _value_sums(
    codes: np.ndarray, segment: np.ndarray, n_subjects: int, framework: Framework
) -> tuple[np.ndarray, np.ndarray]:
    """Per subject, group and value: responses that count, and the sum of their scores.

    A response counts towards a value only where it rated at least half of the value's
    statements (as CCL does); its score is the mean of those ratings, negatives reversed.
    """
    lookup, order, offsets, bounds, shift = framework.value_packing
    # Each rating becomes (1 << shift) + its score, so one sum per value holds both how
    # many statements the response rated and the total of their scores. Statements run
    # down the rows here, in value order, so each value's sum adds whole rows.
    packed = lookup.take(codes.T[order] + offsets[:, None])
    runs = zip(bounds[:-1], bounds[1:], strict=True)
    sums = np.stack([packed[a:b].sum(axis=0) for a, b in runs], axis=1)
    rated, totals = sums >> shift, sums & ((1 << shift) - 1)
    counts = (2 * rated >= np.diff(bounds)) & (rated > 0)
    scores = np.zeros(totals.shape)
    np.divide(totals, rated, out=scores, where=counts)
    n_values = framework.n_values
    index = ((segment * n_values)[:, None] + np.arange(n_values)).ravel()
    size, shape = n_subjects * N_GROUPS * n_values, (n_subjects, N_GROUPS, n_values)
    responses = np.bincount(index, weights=counts.ravel(), minlength=size)
    totals = np.bincount(index, weights=scores.ravel(), minlength=size)
    return responses.reshape(shape).astype(np.int64), totals.reshape(shape)
