"""Rules 1–4 on whole blocks of subjects: which columns show (feedback360.disclosure) and
which cells go blank."""

from __future__ import annotations

import numpy as np

from feedback360.disclosure import MANAGER_COLUMN, N_GROUPS, SELF_COLUMN
from feedback360.groups import ALL_RATERS, GROUPS, OTHER_RATERS, POOLED
from feedback360.reports.engine.inputs import GROUP_CODE

# Every report's columns come from these seven, always in this order; a subject's report
# shows the ones its `column_shown` row allows. Columns 0–4 are the groups of GROUP_CODE.
COLUMNS = (*GROUPS, OTHER_RATERS, ALL_RATERS)
POOL_COLUMN, ALL_COLUMN = 5, 6
# Rows carry one of six labels: the five groups, or the pooled label given at the close
# to responses whose group is shown only within "Other raters".
POOLED_LABEL = GROUP_CODE[POOLED]
N_LABELS = len(GROUP_CODE)

# Why a cell is blank, one code per cell; ABSENT marks a column the report does not show.
VISIBLE, TOO_FEW, SUBTRACTION, ABSENT = 0, 1, 2, 3


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
