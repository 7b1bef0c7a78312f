"""Numbers as the report prints them: one decimal, halves away from zero (4.25 → 4.3).

Anything the report derives from a score (a gap, a change, a mark on a chart, a place in a
list) is worked out from the printed score, so the page never holds more precision than
it prints: a reader cannot narrow a score down by comparing two numbers.
"""

from __future__ import annotations

import numpy as np

# Scores are ratios of whole numbers (or quartiles between printed ones), so one within
# this of a half is a half that binary floating point missed: halfway between 1.1 and 4.6
# comes out as 2.8499999999999996. Rounding to it first puts such halves back without
# moving any real score across a boundary.
_NOISE_DECIMALS = 9


def tenths(x: np.ndarray | float) -> np.ndarray:
    """Scores in whole tenths as printed (NaN kept), e.g. 4.25 → 43.0, −0.25 → −3.0."""
    x = np.asarray(x, dtype=float)
    magnitude = np.round(np.abs(x) * 10, _NOISE_DECIMALS)
    return np.copysign(np.floor(magnitude + 0.5), x)


def printed(x: np.ndarray | float) -> np.ndarray:
    """Scores rounded as printed, as the floats nearest to those decimals (NaN kept)."""
    return tenths(x) / 10


def printed_difference(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """a − b as the difference of the printed numbers, exact to the tenth (NaN if either is)."""
    return (tenths(a) - tenths(b)) / 10
