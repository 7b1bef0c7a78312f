"""Rules 1–4 on whole blocks of subjects: which columns show and which cells go blank."""

from __future__ import annotations

import numpy as np

from feedback360.groups import ALL_RATERS, GROUPS, OTHER_RATERS, POOLED
from feedback360.reports.engine.inputs import GROUP_CODE

# Every report's columns come from these seven, always in this order; a subject's report
# shows the ones its `column_shown` row allows. Columns 0–4 are the groups of GROUP_CODE.
COLUMNS = (*GROUPS, OTHER_RATERS, ALL_RATERS)
SELF_COLUMN, MANAGER_COLUMN, POOL_COLUMN, ALL_COLUMN = 0, 1, 5, 6
N_GROUPS = 5
# Rows carry one of six labels: the five groups, or the pooled label given at the close
# to responses whose group is shown only within "Other raters".
POOLED_LABEL = GROUP_CODE[POOLED]
N_LABELS = len(GROUP_CODE)

# Why a cell is blank, one code per cell; ABSENT marks a column the report does not show.
VISIBLE, TOO_FEW, SUBTRACTION, ABSENT = 0, 1, 2, 3

_NEVER = np.iinfo(np.int64).max  # larger than any count: "no candidate"


def plan_columns(
    responses: np.ndarray, k: int, manager_identifiable: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rules 1–4 for responses (subjects, 5): rater scores shown, groups pooled, columns shown."""
    rows = np.arange(len(responses))
    total = responses[:, 1:].sum(axis=1)
    # Rule 3: below k raters nothing but self is shown, not even an identifiable manager.
    rater_scores_shown = total >= k
    own = responses >= k
    if manager_identifiable:
        own[:, MANAGER_COLUMN] |= responses[:, MANAGER_COLUMN] > 0
    own[:, SELF_COLUMN] = False
    own &= rater_scores_shown[:, None]
    pooled = (responses > 0) & ~own & rater_scores_shown[:, None]
    pooled[:, SELF_COLUMN] = False
    poolable = own.copy()
    if manager_identifiable:
        poolable[:, MANAGER_COLUMN] = False
    # Rule 4: a pool below k could be worked out as all raters minus the shown groups, so
    # the smallest shown group joins it (ties go to the earlier group). Each round pools
    # one of only four groups, so four rounds settle every subject.
    for _ in range(N_GROUPS - 1):
        size = np.where(pooled, responses, 0).sum(axis=1)
        candidates = np.where(poolable, responses, _NEVER)
        smallest = candidates.argmin(axis=1)
        move = (size > 0) & (size < k) & (candidates[rows, smallest] < _NEVER)
        if not move.any():
            break
        own[rows[move], smallest[move]] = False
        poolable[rows[move], smallest[move]] = False
        pooled[rows[move], smallest[move]] = True
    size = np.where(pooled, responses, 0).sum(axis=1)
    pool_shown = size >= k
    # Pooling fails only when the identifiable manager is the sole shown column left: then
    # all raters minus the manager would be the small pool, so all raters goes instead.
    all_shown = rater_scores_shown & ((size == 0) | pool_shown)
    column_shown = np.column_stack(
        [responses[:, SELF_COLUMN] > 0, own[:, 1:], pool_shown, all_shown]
    )
    return rater_scores_shown, pooled, column_shown


def exempt_columns(manager_identifiable: bool) -> np.ndarray:
    """Columns shown by rule rather than by count: self, and an identifiable manager."""
    exempt = np.zeros(len(COLUMNS), dtype=bool)
    exempt[SELF_COLUMN] = True
    exempt[MANAGER_COLUMN] = manager_identifiable
    return exempt


def group_columns(
    by_group: np.ndarray, pooled: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Sum per-label arrays (subjects, 5 or 6, …) into the seven columns (subjects, 7, …).

    A sixth label holds rows stored as pooled: they count in "Other raters" and "All raters".
    """
    if out is None:
        out = np.empty((by_group.shape[0], len(COLUMNS), *by_group.shape[2:]), by_group.dtype)
    out[:, :N_GROUPS] = by_group[:, :N_GROUPS]
    everyone, pool = out[:, ALL_COLUMN], out[:, POOL_COLUMN]
    np.add(by_group[:, 1], by_group[:, 2], out=everyone)
    pool[...] = by_group[:, POOLED_LABEL] if by_group.shape[1] > N_GROUPS else 0
    weights = pooled.reshape(*pooled.shape, *(1,) * (by_group.ndim - 2))
    for group in range(1, N_GROUPS):
        if group > 2:
            everyone += by_group[:, group]
        np.add(pool, by_group[:, group], out=pool, where=weights[:, group])
    if by_group.shape[1] > N_GROUPS:
        everyone += by_group[:, POOLED_LABEL]
    return out


def hide_cells(n: np.ndarray, column_shown: np.ndarray, exempt: np.ndarray, k: int) -> np.ndarray:
    """Rule 4 cell by cell for n (subjects, 7, cells): a reason code per cell, VISIBLE or not.

    n counts the ratings in each cell ("Not seen" excluded).
    """
    n_subjects, n_columns, n_cells = n.shape
    # One row per column, one entry per (subject, cell): hiding a cell of one entry never
    # changes another, so each is settled on its own, and every step is a whole-row step.
    counts = n.transpose(1, 0, 2).reshape(n_columns, -1)
    too_few = (counts > 0) & (counts < k)
    too_few[exempt] = False
    shown = np.repeat(column_shown.T, n_cells, axis=1)
    reason = np.where(shown, too_few.view(np.uint8) * np.uint8(TOO_FEW), np.uint8(ABSENT))
    at_fault = np.flatnonzero(_at_fault(counts, reason == VISIBLE, k))
    if len(at_fault):
        reason[:, at_fault] = _hide_smallest(counts[:, at_fault], reason[:, at_fault], exempt, k)
    return reason.reshape(n_columns, n_subjects, n_cells).transpose(1, 0, 2)


def _hide_smallest(
    counts: np.ndarray, reason: np.ndarray, exempt: np.ndarray, k: int
) -> np.ndarray:
    """Hide, entry by entry, the smallest rater cell still showing until none is at fault."""
    hideable = [c for c in range(1, ALL_COLUMN) if not exempt[c]]
    todo = np.arange(counts.shape[1])
    # Each round hides a cell of every entry still at fault, and an entry has only five
    # cells that can go, so the loop is bounded.
    for _ in range(len(COLUMNS)):
        entry_counts, visible = counts[:, todo], reason[:, todo] == VISIBLE
        # The smallest cell still showing, ties to the earlier column; if only exempt
        # cells are left, all raters goes instead.
        smallest = np.full(len(todo), np.iinfo(np.int64).max)
        column = np.full(len(todo), ALL_COLUMN)
        for c in hideable:
            better = visible[c] & (entry_counts[c] > 0) & (entry_counts[c] < smallest)
            smallest = np.where(better, entry_counts[c], smallest)
            column[better] = c
        reason[column, todo] = SUBTRACTION
        visible[column, np.arange(len(todo))] = False
        todo = todo[_at_fault(entry_counts, visible, k)]
        if not len(todo):
            break
    return reason


def _at_fault(counts: np.ndarray, visible: np.ndarray, k: int) -> np.ndarray:
    """Where "All raters" is shown and holds 1 to k − 1 beyond the rater columns shown.

    That remainder is what a reader could work out by subtraction. Columns run down axis 0.
    """
    beyond = counts[ALL_COLUMN] - (counts[1:ALL_COLUMN] * visible[1:ALL_COLUMN]).sum(axis=0)
    return visible[ALL_COLUMN] & (beyond > 0) & (beyond < k)
