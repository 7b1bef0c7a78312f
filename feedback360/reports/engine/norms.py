"""Cycle norms: how subjects' shown "All raters" scores spread, and where each one stands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_QUARTILES = np.array([0.25, 0.5, 0.75])


@dataclass(frozen=True)
class Norms:
    """Per statement (or value): subjects behind the norm, its quartiles, and percentiles.

    subjects is 0 and the quartiles NaN where fewer than the cycle's minimum have shown
    scores. Percentiles are looked up from each cell's distinct scores, `levels` (kept
    apart by a step per cell, in one sorted array), and the percentile of each.
    """

    subjects: np.ndarray  # (cells,)
    quartiles: np.ndarray  # (cells, 3): p25, median, p75
    levels: np.ndarray  # (distinct scores,) sorted, each moved up by its cell × step
    level_percentile: np.ndarray  # (distinct scores,)
    step: float

    def percentile(self, scores: np.ndarray) -> np.ndarray:
        """(…, cells) shown scores → each one's percentile, NaN where hidden or no norm."""
        scores = _levelled(scores)
        cells = np.arange(scores.shape[-1])
        usable = ~np.isnan(scores) & (self.subjects > 0)
        where = np.searchsorted(self.levels, np.where(usable, scores, 0.0) + cells * self.step)
        where = np.minimum(where, len(self.levels) - 1)
        return np.where(usable, self.level_percentile[where] if len(self.levels) else 0.0, np.nan)


def cycle_norms(scores: np.ndarray, minimum: int, scale_points: int) -> Norms:
    """Norms over the columns of scores (subjects, cells), NaN marking scores not shown."""
    n_subjects, n_cells = scores.shape
    # One row per cell keeps each sort on contiguous memory; NaN sorts last.
    ordered = np.sort(_levelled(scores.T), axis=1)
    subjects = np.count_nonzero(~np.isnan(ordered), axis=1)
    enough = subjects >= minimum

    cells = np.arange(n_cells)
    position = _QUARTILES[:, None] * np.maximum(subjects - 1, 0)
    below = np.floor(position).astype(np.intp)
    above = np.ceil(position).astype(np.intp)
    quartiles = np.full((3, n_cells), np.nan)
    if n_subjects:
        low, high = ordered[cells, below], ordered[cells, above]
        quartiles = np.where(enough, low + (position - below) * (high - low), np.nan)

    # Percentile rank with ties split (mid-rank): the share of subjects strictly below, plus
    # half of those level with this one (the subject included), so a tie reads as the
    # middle of its run. A run of equal scores starts where the sorted scores change.
    place = np.arange(n_subjects)
    counted = (place < subjects[:, None]) & enough[:, None]
    starts = counted.copy()
    starts[:, 1:] &= ordered[:, 1:] != ordered[:, :-1]
    cell, first = np.nonzero(starts)
    last = np.append(first[1:], 0)
    last = np.where(np.append(cell[1:] == cell[:-1], False), last, subjects[cell])
    step = scale_points + 2.0  # wider than any score, so cells never overlap
    return Norms(
        subjects=np.where(enough, subjects, 0),
        quartiles=quartiles.T,
        levels=ordered[cell, first] + cell * step,
        level_percentile=100.0 * (first + 0.5 * (last - first)) / np.maximum(subjects[cell], 1),
        step=step,
    )


def _levelled(scores: np.ndarray) -> np.ndarray:
    # Means of the same ratio reached by different sums may differ in the last bit; rounding
    # lets them tie as they should.
    return np.round(scores, 9)
