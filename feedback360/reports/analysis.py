"""The analysis engine: one subject's ratings in, what their report may show out."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from feedback360.reports.results import (
    ALL_RATERS,
    GROUPS,
    LABELS,
    LINE_MANAGER,
    OTHER_RATERS,
    RATER_GROUPS,
    SELF,
    Cell,
    Column,
    GroupStatus,
    ReportResult,
    ShownComment,
    StatementResult,
    ValueResult,
)

# Why a cell is blank, as a code per cell so hiding can be worked out on whole arrays.
_VISIBLE, _TOO_FEW, _SUBTRACTION = 0, 1, 2


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
    ratings, codes, statement_values, statement_positive = _checked(
        ratings, groups, statement_values, statement_positive, n_values, k, scale_points
    )
    counts = {g: int(np.count_nonzero(codes == g)) for g in GROUPS}
    total = len(codes) - counts[SELF]
    notes: list[str] = []

    # Rule 3: below k raters nothing but self is shown, not even an identifiable manager.
    rater_scores_shown = total >= k
    own: list[str] = []
    pooled: list[str] = []
    if rater_scores_shown:
        own, pooled = _plan_groups(counts, k, manager_identifiable)
    pool_size = sum(counts[g] for g in pooled)
    pool_shown = pool_size >= k
    # Pooling fails only when the identifiable manager is the sole shown column left: then
    # all raters minus the manager would be the small pool, so all raters goes instead.
    all_shown = rater_scores_shown and (pool_size == 0 or pool_shown)
    if rater_scores_shown and not all_shown:
        notes.append(
            f"All raters is not shown: apart from the line manager, only {_people(pool_size)}"
            f" responded, and at least {k} are needed."
        )

    column_groups: list[tuple[str, tuple[str, ...]]] = []
    if counts[SELF]:
        column_groups.append((SELF, (SELF,)))
    column_groups += [(g, (g,)) for g in own]
    if pool_shown:
        column_groups.append((OTHER_RATERS, tuple(pooled)))
    if all_shown:
        column_groups.append((ALL_RATERS, RATER_GROUPS))
    masks = [np.isin(codes, members) for _, members in column_groups]
    columns = [
        Column(key, LABELS[key], int(np.count_nonzero(mask)))
        for (key, _), mask in zip(column_groups, masks, strict=True)
    ]
    keys = [c.key for c in columns]

    n, not_seen, mean, sd, low, high = _column_stats(ratings, masks)
    # Self and an identifiable manager are shown by rule; every other column must earn it.
    exempt = np.array(
        [key == SELF or (key == LINE_MANAGER and manager_identifiable) for key in keys], dtype=bool
    )
    reason = _hide_cells(n, keys, exempt, k)
    mean[reason != _VISIBLE] = np.nan  # from here on, a mean that is not NaN is shown
    statements = _statement_results(keys, (n, not_seen, mean, sd, low, high), reason, k)
    values = _value_results(
        keys, mean, statement_values, statement_positive, n_values, scale_points
    )

    labels = {SELF: LABELS[SELF]} | {g: LABELS[g] for g in own}
    if pool_shown:
        labels |= dict.fromkeys(pooled, LABELS[OTHER_RATERS])
    return ReportResult(
        columns=columns,
        groups=[GroupStatus(g, LABELS[g], counts[g], g in own) for g in RATER_GROUPS if counts[g]],
        total_responses=total,
        rater_scores_shown=rater_scores_shown,
        withheld_reason=None if rater_scores_shown else _withheld_reason(total, k),
        statements=statements,
        values=values,
        comments=_shown_comments(comments, labels, n_values, seed),
        notes=notes,
    )


def _checked(
    ratings: np.ndarray,
    groups: Sequence[str],
    statement_values: np.ndarray,
    statement_positive: np.ndarray,
    n_values: int,
    k: int,
    scale_points: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Refuse input that would make the report wrong rather than merely empty."""
    if k < 2:
        raise ValueError(f"The anonymity threshold must be at least 2, not {k}.")
    if scale_points < 2:
        raise ValueError(f"A rating scale needs at least 2 points, not {scale_points}.")
    ratings = np.asarray(ratings, dtype=float)
    codes = np.asarray(list(groups), dtype=str)
    statement_values = np.asarray(statement_values, dtype=int)
    statement_positive = np.asarray(statement_positive, dtype=bool)
    if ratings.ndim != 2 or ratings.shape[0] != len(codes):
        raise ValueError("ratings must have one row per response and one column per statement.")
    if statement_values.shape != (ratings.shape[1],) or statement_positive.shape != (
        ratings.shape[1],
    ):
        raise ValueError("statement_values and statement_positive need one entry per statement.")
    if np.any((statement_values < 0) | (statement_values >= n_values)):
        raise ValueError(f"Every statement must belong to a value from 0 to {n_values - 1}.")
    unknown = set(codes.tolist()) - set(GROUPS)
    if unknown:
        raise ValueError(f"Unknown rater groups: {', '.join(sorted(unknown))}.")
    if np.count_nonzero(codes == SELF) > 1:
        raise ValueError("A report has at most one self-assessment.")
    rated = ratings[~np.isnan(ratings)]
    if np.any((rated < 1) | (rated > scale_points) | (rated != np.round(rated))):
        raise ValueError(f"Ratings must be whole numbers from 1 to {scale_points}.")
    return ratings, codes, statement_values, statement_positive


def _plan_groups(
    counts: dict[str, int], k: int, manager_identifiable: bool
) -> tuple[list[str], list[str]]:
    """Split the rater groups that responded into those shown alone and those pooled."""
    own = [
        g
        for g in RATER_GROUPS
        if counts[g] >= k or (g == LINE_MANAGER and manager_identifiable and counts[g])
    ]
    pooled = [g for g in RATER_GROUPS if counts[g] and g not in own]
    # Rule 4: a pool below k could be worked out as all raters minus the shown groups.
    while 0 < sum(counts[g] for g in pooled) < k:
        poolable = [g for g in own if not (g == LINE_MANAGER and manager_identifiable)]
        if not poolable:
            break
        smallest = min(poolable, key=counts.__getitem__)  # ties go to the earlier group
        own.remove(smallest)
        pooled.append(smallest)
    return own, [g for g in RATER_GROUPS if g in pooled]


def _column_stats(ratings: np.ndarray, masks: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per column and statement: ratings, not seen, mean, sd, lowest and highest rating."""
    shape = (len(masks), ratings.shape[1])
    n, not_seen = np.zeros(shape, dtype=int), np.zeros(shape, dtype=int)
    mean, sd = np.full(shape, np.nan), np.full(shape, np.nan)
    low, high = np.full(shape, np.nan), np.full(shape, np.nan)
    for i, mask in enumerate(masks):
        rows = ratings[mask]
        rated = ~np.isnan(rows)
        n[i] = rated.sum(axis=0)
        not_seen[i] = len(rows) - n[i]
        # Sums over masked values instead of nanmean, which warns on statements nobody rated.
        np.divide(np.where(rated, rows, 0.0).sum(axis=0), n[i], out=mean[i], where=n[i] > 0)
        squares = (np.where(rated, rows - mean[i], 0.0) ** 2).sum(axis=0)
        # Sample sd (ddof=1): the raters are a sample of everyone who sees the subject at
        # work. One rating has no spread, so it is 0.0 rather than undefined.
        np.divide(squares, n[i] - 1, out=sd[i], where=n[i] > 1)
        np.sqrt(sd[i], out=sd[i])
        sd[i][n[i] == 1] = 0.0
        low[i] = np.where(rated, rows, np.inf).min(axis=0, initial=np.inf)
        high[i] = np.where(rated, rows, -np.inf).max(axis=0, initial=-np.inf)
    return n, not_seen, mean, sd, low, high


def _hide_cells(n: np.ndarray, keys: list[str], exempt: np.ndarray, k: int) -> np.ndarray:
    """Blank cells, statement by statement, until no subtraction reveals fewer than k ratings."""
    reason = np.where(~exempt[:, None] & (n > 0) & (n < k), _TOO_FEW, _VISIBLE)
    if ALL_RATERS not in keys:
        return reason
    everyone = keys.index(ALL_RATERS)
    raters = np.array([key not in (SELF, ALL_RATERS) for key in keys], dtype=bool)
    hideable = ~exempt
    hideable[everyone] = False
    statements = np.arange(n.shape[1])
    while True:
        visible = reason == _VISIBLE
        beyond = n[everyone] - np.where(raters[:, None] & visible, n, 0).sum(axis=0)
        bad = visible[everyone] & (beyond > 0) & (beyond < k)
        if not bad.any():
            return reason
        # Hide the smallest cell still showing; if only exempt cells are left, all raters goes.
        candidates = np.where(hideable[:, None] & visible & (n > 0), n, np.iinfo(int).max)
        smallest = candidates.argmin(axis=0)
        found = candidates[smallest, statements] < np.iinfo(int).max
        reason[smallest[bad & found], statements[bad & found]] = _SUBTRACTION
        reason[everyone, bad & ~found] = _SUBTRACTION


def _statement_results(
    keys: list[str], stats: tuple[np.ndarray, ...], reason: np.ndarray, k: int
) -> list[StatementResult]:
    """Build the per-statement cells; a blank cell keeps its counts but nothing else."""
    reasons = [
        None,
        f"Fewer than {k} ratings",
        f"Hidden so that fewer than {k} ratings cannot be worked out from others",
    ]
    n, _, mean, *_ = stats
    gap = np.full(n.shape[1], np.nan)
    if SELF in keys and ALL_RATERS in keys:
        gap = mean[keys.index(ALL_RATERS)] - mean[keys.index(SELF)]
    # Plain Python lists: building hundreds of cells from numpy scalars is the slow part.
    by_statement = zip(*(a.T.tolist() for a in (*stats, reason)), strict=True)
    results = []
    for s, columns in enumerate(by_statement):
        cells = {}
        for key, count, unseen, m, sd, low, high, why in zip(keys, *columns, strict=True):
            if math.isnan(m):
                cells[key] = Cell(count, unseen, None, None, None, None, reasons[why])
            else:
                cells[key] = Cell(count, unseen, m, sd, int(low), int(high), reasons[why])
        results.append(StatementResult(s, cells, _optional(gap[s])))
    return results


def _value_results(
    keys: list[str],
    mean: np.ndarray,
    statement_values: np.ndarray,
    statement_positive: np.ndarray,
    n_values: int,
    scale_points: int,
) -> list[ValueResult]:
    """Score each value per column as the mean of its visible statements, negatives reversed."""
    # Lower is better on a "We will not" statement, so it counts as scale_points + 1 − x.
    scored = np.where(statement_positive, mean, scale_points + 1 - mean)
    member = (statement_values[:, None] == np.arange(n_values)).astype(float)
    shown = ~np.isnan(scored)
    totals = np.where(shown, scored, 0.0) @ member
    counts = shown.astype(float) @ member
    scores = np.full(totals.shape, np.nan)
    np.divide(totals, counts, out=scores, where=counts > 0)
    gap = np.full(n_values, np.nan)
    if SELF in keys and ALL_RATERS in keys:
        gap = scores[keys.index(ALL_RATERS)] - scores[keys.index(SELF)]
    return [
        ValueResult(
            v, {key: _optional(scores[c, v]) for c, key in enumerate(keys)}, _optional(gap[v])
        )
        for v in range(n_values)
    ]


def _shown_comments(
    comments: Sequence[tuple[int, str, str]], labels: dict[str, str], n_values: int, seed: int
) -> list[ShownComment]:
    """Keep comments only from groups shown somewhere, labelled as shown, in random order."""
    for value_index, group, _ in comments:
        if group not in GROUPS or not 0 <= value_index < n_values:
            raise ValueError(f"A comment has an unknown group or value: {group}, {value_index}.")
    # A comment from a group in no shown column would speak for fewer than k people.
    kept = [ShownComment(v, text, labels[g]) for v, g, text in comments if g in labels]
    order = np.random.default_rng(seed).permutation(len(kept))
    return [kept[i] for i in order]


def _withheld_reason(total: int, k: int) -> str:
    who = "No one has responded yet" if total == 0 else f"Only {_people(total)} responded"
    return f"{who}; at least {k} are needed before any rater scores are shown."


def _people(count: int) -> str:
    return "1 person has" if count == 1 else f"{count} people have"


def _optional(x: float) -> float | None:
    return None if np.isnan(x) else float(x)
