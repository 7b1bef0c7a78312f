"""The report's "Start here" page: three strengths and three priorities, in a fixed order.

Chosen from the lists the report already prints (themselves made from shown "All raters"
cells, compared as printed), so each pick can be found, with the same numbers, further on.
"""

from __future__ import annotations

from collections.abc import Iterable

from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.printed import printed
from feedback360.reports.engine.results import (
    BLIND_SPOT,
    HIDDEN_STRENGTH,
    HIGHEST,
    LOWEST,
    SEEN_OFTEN,
    SERIOUS,
    Highlight,
    Pick,
    SeriousNegative,
)

PICKS = 3
# A "We will not" seen at least this often ("Sometimes") is worth working on.
SEEN_OFTEN_LEVEL = 3.0


def strengths(
    highest: list[Highlight], hidden_strengths: list[Highlight], settings: CycleSettings
) -> list[Pick]:
    """The "We will" statements raters see most often, at the good score or above.

    Highest first; a statement that is also a hidden strength says so.
    """
    hidden = {h.statement_index for h in hidden_strengths}
    good = [h for h in highest if printed(h.others) >= settings.good_score]
    return [
        Pick(h.statement_index, HIDDEN_STRENGTH if h.statement_index in hidden else HIGHEST)
        for h in good[:PICKS]
    ]


def priorities(
    serious: list[SeriousNegative],
    blind_spots: list[Highlight],
    lowest: list[Highlight],
    most_seen_negative: list[Highlight],
    settings: CycleSettings,
) -> list[Pick]:
    """What to work on first: serious behaviours seen, blind spots, the least seen "We
    will" below the good score, then "We will not" seen at least sometimes."""
    candidates: list[tuple[int, str]] = [(s.statement_index, SERIOUS) for s in serious]
    candidates += _picks(blind_spots, BLIND_SPOT)
    candidates += _picks([h for h in lowest if printed(h.others) < settings.good_score], LOWEST)
    candidates += _picks(
        [h for h in most_seen_negative if printed(h.others) >= SEEN_OFTEN_LEVEL], SEEN_OFTEN
    )
    chosen: list[Pick] = []
    for index, reason in candidates:
        if len(chosen) < PICKS and all(p.statement_index != index for p in chosen):
            chosen.append(Pick(index, reason))
    return chosen


def _picks(rows: Iterable[Highlight], reason: str) -> list[tuple[int, str]]:
    return [(h.statement_index, reason) for h in rows]
