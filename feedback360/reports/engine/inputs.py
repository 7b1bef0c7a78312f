"""What the analysis engine takes in: a whole cycle's ratings as arrays, and its settings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from feedback360.groups import GROUPS, POOLED

# Group codes in `CycleArrays.group`: 0 self, 1 line manager, 2 peer, 3 direct report and
# 4 other index into GROUPS; 5 is a response stored under the pooled label at the close.
GROUP_CODE = {**{group: code for code, group in enumerate(GROUPS)}, POOLED: len(GROUPS)}
# What `storage_labels` gives a group whose responses are not stored at all.
DROPPED = -1


@dataclass(frozen=True)
class CycleArrays:
    """Every response of a cycle: one row each, in any order.

    ratings: float (n_responses, n_statements), 1..scale_points, NaN for "Not seen".
    subject: int (n_responses,), the subject's index 0..n_subjects-1.
    group: int8 (n_responses,), a code from GROUP_CODE; at most one self row per subject.
    statement_value: int (n_statements,), the value each statement belongs to.
    statement_positive: bool (n_statements,), True for "We will", False for "We will not".
    previous_value_scores: float (n_subjects, n_values), the subject's "All raters" value
        scores in their previous released report on the same framework, NaN where there
        was none or it was not shown.
    group_counts: int (n_subjects, 5), how many responses each group (self, line manager,
        peer, direct report, other) gave, as counted at the close. When given, the
        anonymity rules, column sizes and group statuses come from it, and the rows must
        be exactly what the close stores (see `engine.storage.storage_labels`): each group
        shown on its own under its own code, the groups pooled into a shown "Other raters"
        under the pooled code, nothing else. When None, everything is counted from the
        rows, and a pooled row is refused.
    statement_serious: bool (n_statements,), True for a "We will not" the framework names
        as serious; None when it names none.
    """

    ratings: np.ndarray
    subject: np.ndarray
    group: np.ndarray
    statement_value: np.ndarray
    statement_positive: np.ndarray
    n_subjects: int
    n_values: int
    scale_points: int = 5
    previous_value_scores: np.ndarray | None = None
    group_counts: np.ndarray | None = None
    statement_serious: np.ndarray | None = None


@dataclass(frozen=True)
class CycleSettings:
    k: int = 3  # anonymity threshold, never below 2
    manager_identifiable: bool = False
    blind_spot_gap: float = 1.0  # polarity-aware gap that makes a blind spot or hidden strength
    agreement_margin: float = 0.5  # self − others beyond this: over- or under-estimator
    good_score: float = 4.0  # others' value score that counts as "good" ("Often")
    rwg_flag: float = 0.5  # r_wg below this: "raters disagree"
    norm_min_subjects: int = 10  # fewest subjects with shown scores before norms are shown
    highlights: int = 5  # how many highest / lowest statements to list
    # "All raters" mean (as printed) at or above which a serious "We will not" goes on the
    # report's first page: 2.0 is "Rarely" on the default scale.
    serious_level: float = 2.0
