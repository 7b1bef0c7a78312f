"""Which label each response is stored under when a cycle closes, from its groups' sizes.

A group too small to be shown on its own must not be stored under its own name either: in
storage, a group of one is that person. So at the close each response keeps its group only
where the report shows that group on its own, takes the pooled label where its group is
shown only within "Other raters", and is not stored where nothing of it can ever be shown.
The analysis of the stored rows, given the counts kept at the close, is then exactly the
analysis of the original rows (rules 1–4 see the same numbers).
"""

from __future__ import annotations

import numpy as np

from feedback360.disclosure import plan_columns
from feedback360.reports.engine.columns import (
    N_GROUPS,
    POOL_COLUMN,
    POOLED_LABEL,
    SELF_COLUMN,
)
from feedback360.reports.engine.inputs import DROPPED


def storage_labels(counts: np.ndarray, k: int, manager_identifiable: bool) -> np.ndarray:
    """Per subject and group (self, line manager, peer, direct report, other): a label code.

    counts is (subjects, 5), each group's responses at the close. The code is the group's
    own (its GROUP_CODE) where the group is shown on its own, GROUP_CODE["pooled"] where it
    is pooled into a shown "Other raters", and DROPPED where it is shown nowhere: rule 3 is
    not met, or the pool is too small to show. Self always keeps its own code.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[1] != N_GROUPS:
        raise ValueError(f"counts must have a row per subject and {N_GROUPS} groups.")
    if not np.issubdtype(counts.dtype, np.integer) or np.any(counts < 0):
        raise ValueError("counts must be whole numbers of responses, none below 0.")
    if k < 2:
        raise ValueError(f"The anonymity threshold must be at least 2, not {k}.")
    _, pooled, column_shown = plan_columns(counts.astype(np.int64), k, manager_identifiable)
    own = np.broadcast_to(np.arange(N_GROUPS, dtype=np.int8), counts.shape)
    labels = np.where(column_shown[:, :N_GROUPS], own, np.int8(DROPPED))
    labels[pooled & column_shown[:, POOL_COLUMN, None]] = POOLED_LABEL
    labels[:, SELF_COLUMN] = SELF_COLUMN
    return labels
