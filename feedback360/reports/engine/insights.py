"""What a coach reads first: blind spots, strengths, extremes, agreement and norms."""

from __future__ import annotations

import math

import numpy as np

from feedback360.groups import ALL_RATERS, SELF
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.norms import Norms
from feedback360.reports.engine.printed import printed, printed_difference
from feedback360.reports.engine.results import (
    IN_AGREEMENT,
    MIXED,
    OVER_ESTIMATOR,
    UNDER_ESTIMATOR,
    Agreement,
    Highlight,
    Norm,
    StatementResult,
)


def agreement(own: float, others: float, settings: CycleSettings, mixed: bool = False) -> Agreement:
    """Self-other agreement on a value (after Atwater & Yammarino); higher is better here.

    Read from the scores as printed, so the label says nothing the two numbers do not.
    Mixed (see `mixed_values`) is never called agreement: there the value's mean only hides
    gaps that cancel out.
    """
    difference = float(printed_difference(own, others))
    if difference > settings.agreement_margin:
        kind = OVER_ESTIMATOR
    elif difference < -settings.agreement_margin:
        kind = UNDER_ESTIMATOR
    else:
        kind = MIXED if mixed else IN_AGREEMENT
    return Agreement(kind, bool(printed(others) >= settings.good_score))


def norm(norms: Norms, index: int, percentile: float) -> Norm | None:
    """Where the subject stands on one statement or value, if the cycle has a norm for it."""
    if not norms.subjects[index] or math.isnan(percentile):
        return None
    p25, median, p75 = norms.quartiles[index].tolist()
    return Norm(int(norms.subjects[index]), p25, median, p75, percentile)


def mixed_values(
    statements: list[StatementResult], statement_value: np.ndarray, n_values: int, gap: float
) -> list[bool]:
    """Per value: do some of its statements have a large gap one way and some the other?

    Read from the printed gaps by polarity (outlook), as the value score turns "We will
    not" round, so the two directions are the ones the value's mean would cancel.
    """
    better, worse = [False] * n_values, [False] * n_values
    for s in statements:
        if s.outlook is None:
            continue
        value = int(statement_value[s.index])
        better[value] |= s.outlook >= gap
        worse[value] |= s.outlook <= -gap
    return [b and w for b, w in zip(better, worse, strict=True)]


def highlights(
    statements: list[StatementResult], positive: np.ndarray, settings: CycleSettings
) -> dict[str, list[Highlight]]:
    """The statements a report singles out, from shown "All raters" cells only.

    Means are ranked and compared as printed, and gaps already are, so no list or order
    tells apart two means that print the same. Ties keep statement order. Highest and
    lowest never name the same statement, which matters only for frameworks with fewer
    than twice `highlights` positive statements.

    A blind spot or hidden strength needs a gap of at least `blind_spot_gap` read by
    polarity, raters who agree (r_wg at least `rwg_flag`) and at least k ratings behind the
    raters' score; at most `highlights` each way, largest first. Every other statement
    whose gap alone is large enough is a "possible" one, largest first too.
    """
    shown = [s for s in statements if _others(s) is not None]
    gap, count = settings.blind_spot_gap, settings.highlights
    with_outlook = [s for s in shown if s.outlook is not None]
    rated = [s for s in shown if positive[s.index]]
    highest = sorted(rated, key=lambda s: (-_others(s), s.index))[:count]
    named = {s.index for s in highest}
    rest = [s for s in rated if s.index not in named]
    lowest = sorted(rest, key=lambda s: (_others(s), s.index))[:count]
    # A "We will not" whose mean prints as 1.0 was (next to) never seen: nothing to name.
    negatives = [s for s in shown if not positive[s.index] and _others(s) > 1.0]
    worse = [
        s for s in sorted(with_outlook, key=lambda s: (s.outlook, s.index)) if s.outlook <= -gap
    ]
    better = [
        s for s in sorted(with_outlook, key=lambda s: (-s.outlook, s.index)) if s.outlook >= gap
    ]
    blind_spots = [s for s in worse if _firm(s, settings)][:count]
    hidden_strengths = [s for s in better if _firm(s, settings)][:count]
    firm = {s.index for s in (*blind_spots, *hidden_strengths)}
    return {
        "blind_spots": [_highlight(s) for s in blind_spots],
        "hidden_strengths": [_highlight(s) for s in hidden_strengths],
        "possible_blind_spots": [_highlight(s) for s in worse if s.index not in firm],
        "possible_hidden_strengths": [_highlight(s) for s in better if s.index not in firm],
        "highest": [_highlight(s) for s in highest],
        "lowest": [_highlight(s) for s in lowest],
        "most_seen_negative": [
            _highlight(s) for s in sorted(negatives, key=lambda s: (-_others(s), s.index))[:count]
        ],
    }


def _firm(statement: StatementResult, settings: CycleSettings) -> bool:
    """Raters agree on the statement (r_wg at or above the flag) and at least k rated it."""
    cell = statement.cells[ALL_RATERS]
    return (
        statement.rwg is not None
        and not statement.raters_disagree
        and statement.rwg >= settings.rwg_flag
        and cell.n >= settings.k
    )


def _others(statement: StatementResult) -> float | None:
    """The "All raters" mean as printed, None where not shown."""
    cell = statement.cells.get(ALL_RATERS)
    return None if cell is None or cell.mean is None else float(printed(cell.mean))


def _highlight(statement: StatementResult) -> Highlight:
    own = statement.cells.get(SELF)
    return Highlight(
        statement_index=statement.index,
        others=statement.cells[ALL_RATERS].mean,
        self=None if own is None else own.mean,
        outlook=statement.outlook,
    )
