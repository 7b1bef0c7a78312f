"""Value scores built from shown statement cells alone, every rating weighing the same.

Used by personal reports and organisation summaries alike. A value score is the mean of
the ratings in the value's shown cells of one column (or segment), "We will not" ratings
reverse-scored; so it is a function of numbers the reader already has, and no
subtraction, weighting or rounding can split it into anything the cells hide.
"""

from __future__ import annotations

import numpy as np


def value_membership(statement_value: np.ndarray, n_values: int) -> np.ndarray:
    """(statements, values) 1.0 where the statement belongs to the value: sums by matmul."""
    membership = np.zeros((len(statement_value), n_values))
    membership[np.arange(len(statement_value)), statement_value] = 1.0
    return membership


def value_sums(
    n: np.ndarray,
    totals: np.ndarray,
    shown: np.ndarray,
    membership: np.ndarray,
    positive: np.ndarray,
    scale_points: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(…, statements) ratings, their sums and shown → (…, values) ratings held, score sums.

    A "We will not" rated x scores scale_points + 1 − x, rating by rating. Sums of whole
    numbers stay exact in float64, so the matrix products lose nothing.
    """
    scored = np.where(positive, totals, (scale_points + 1) * n - totals)
    held = np.where(shown, n, 0).astype(float) @ membership
    sums = np.where(shown, scored, 0).astype(float) @ membership
    return held, sums
