"""Rules 1–4 of the anonymity promise, on counts alone: which rater groups a report shows on
their own, which only pooled as "Other raters", and whether rater scores show at all.

The report's engine applies them to whole blocks of subjects; the request page asks them
of one request's responses so far, so that what it promises is what the report will do.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from feedback360.groups import GROUPS, RATER_GROUPS

# The count columns, in GROUPS order: self, line manager, peer, direct report, other.
SELF_COLUMN, MANAGER_COLUMN = 0, 1
N_GROUPS = len(GROUPS)
# How a rater group appears in the report.
OWN, POOLED_IN, NOT_SHOWN = "own", "pooled", "not shown"
# Pooled with every other rater: the report then shows the pool only as "All raters".
POOLED_IN_ALL = "pooled in all"

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


def how_groups_show(
    responses: Mapping[str, int], k: int, manager_identifiable: bool
) -> dict[str, str]:
    """For each rater group with a response: OWN, POOLED_IN ("Other raters"), POOLED_IN_ALL
    (no group shown on its own, so the report shows the pool only as "All raters") or
    NOT_SHOWN, as plan_columns decides for a report with these responses."""
    counts = np.array([[responses.get(group, 0) for group in GROUPS]], dtype=np.int64)
    _, pooled, column_shown = plan_columns(counts, k, manager_identifiable)
    pool_shown = bool(column_shown[0, N_GROUPS])
    everyone_pooled = not column_shown[0, SELF_COLUMN + 1 : N_GROUPS].any()
    showing = {}
    for column, group in enumerate(GROUPS):
        if group not in RATER_GROUPS or not responses.get(group):
            continue
        if column_shown[0, column]:
            showing[group] = OWN
        elif pooled[0, column] and pool_shown:
            showing[group] = POOLED_IN_ALL if everyone_pooled else POOLED_IN
        else:
            showing[group] = NOT_SHOWN
    return showing
