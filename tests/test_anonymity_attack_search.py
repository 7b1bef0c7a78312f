"""The attacker of test_anonymity_attacker.py again, now with rounding and whole numbers.

It searches whole-number ratings on the scale for any that print every shown figure the
same (cell means, value scores, gaps, each to one decimal, halves away from zero), with
scipy's mixed-integer solver (HiGHS). True ratings come from the middle of the scale
(2–4 of 5) while the search allows 1–5, so no unanimity at an end of the scale pins a
rating as it legitimately would ("1.0" can only be all ones). A rating is pinned when
every consistent set of ratings gives it the same value; none may be. The distribution of
ratings is never printed; the spread (lowest–highest) is, but it is not modelled here:
like a mean of 1.0, a group whose mean equals the lowest rating given is unanimous.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from feedback360.groups import DIRECT_REPORT, LINE_MANAGER, OTHER, PEER, SELF
from tests.test_anonymity_attacker import (
    SCALE,
    Cycle,
    Figure,
    check_figures,
    cycles,
    engine_figures,
    naive_result,
    random_cycle,
)

TRUE_LOWEST, TRUE_HIGHEST = 2, 4


def number_read(printed: str) -> str:
    """The number a reader takes from the report's words: a gap is "0.9 less often" or
    "Others score you 0.9 lower than you do", which is −0.9; "same as you" is 0."""
    found = re.search(r"\d+\.\d", printed)
    if found is None:
        return "0"
    below = any(word in printed.split() for word in ("less", "lower", "down"))
    return ("-" if below else "") + found.group()


def printed_bounds(figure: Figure) -> tuple[int, int]:
    """The whole-number range of a · x that prints the figure as the report prints it.

    A number printed as t tenths lies in [t − ½, t + ½) tenths for t > 0, in (t − ½, t + ½]
    for t < 0 (halves go away from zero), and strictly between for t = 0.
    """
    t = round(Fraction(number_read(figure.printed)) * 10)
    low = figure.d * (Fraction(2 * t - 1, 20) - figure.offset) - figure.b
    high = figure.d * (Fraction(2 * t + 1, 20) - figure.offset) - figure.b
    lowest = math.ceil(low) if t > 0 else math.floor(low) + 1
    highest = math.floor(high) if t < 0 else math.ceil(high) - 1
    return lowest, highest


def pinned_ratings(cycle: Cycle, figures: list[Figure]) -> list[int]:
    """Unknowns that take one value in every whole-number solution printing the same.

    A solution found for one unknown frees every unknown it moves, so most need no search
    of their own; each search runs on the unknowns linked to its target only.
    """
    # Differences of printed numbers say nothing more than those numbers (checked).
    figures = [f for f in figures if not f.from_printed]
    truth = cycle.truth
    if not figures:
        return []
    a = np.array([f.a for f in figures], dtype=float)
    bounds = np.array([printed_bounds(f) for f in figures], dtype=float)
    assert np.all((bounds[:, 0] <= a @ truth) & (a @ truth <= bounds[:, 1]))
    linked = (a.T != 0).astype(float) @ (a != 0).astype(float)
    _, component = connected_components(linked, directed=False)
    free = ~(a != 0).any(axis=0)
    pinned = []
    for j in range(len(truth)):
        unknowns = np.flatnonzero(component == component[j])
        rows = np.flatnonzero((a[:, unknowns] != 0).any(axis=1))
        constraint = LinearConstraint(a[np.ix_(rows, unknowns)], *bounds[rows].T)
        target = int(np.flatnonzero(unknowns == j)[0])
        for low, high in ((1, truth[j] - 1), (truth[j] + 1, SCALE)):
            if free[j] or low > high:
                continue
            lower = np.full(len(unknowns), 1.0)
            upper = np.full(len(unknowns), float(SCALE))
            lower[target], upper[target] = low, high
            found = milp(
                np.zeros(len(unknowns)),
                constraints=constraint,
                integrality=np.ones(len(unknowns)),
                bounds=Bounds(lower, upper),
            )
            if found.status == 0:
                free[unknowns[np.round(found.x) != truth[unknowns]]] = True
        if not free[j]:
            pinned.append(j)
    return pinned


def test_no_whole_number_search_pins_a_rating_from_the_printed_report():
    checked = Counter()

    @settings(max_examples=150, deadline=None)
    @given(cycles(lowest=TRUE_LOWEST, highest=TRUE_HIGHEST, most=4))
    def search(cycle: Cycle) -> None:
        figures = engine_figures(cycle, cycle.report())
        check_figures(cycle, figures)
        assert pinned_ratings(cycle, figures) == []
        checked["cycles"] += 1
        checked["unknowns"] += len(cycle.unknowns)

    search()
    print(
        f"integer search: {checked['cycles']} cycles, {checked['unknowns']} unknown ratings,"
        " none pinned"
    )


def test_the_search_pins_ratings_from_the_old_value_score_in_many_cycles():
    rng = np.random.default_rng(2026)
    pinning = total = 0
    for _ in range(80):
        sizes = {SELF: 1, LINE_MANAGER: int(rng.integers(0, 2))}
        sizes |= {g: int(rng.integers(0, 6)) for g in (PEER, DIRECT_REPORT, OTHER)}
        k, identifiable = int(rng.integers(2, 5)), bool(rng.random() < 0.5)
        cycle = random_cycle(rng, sizes, TRUE_LOWEST, TRUE_HIGHEST, k, identifiable)
        result = cycle.report()
        if not result.rater_scores_shown:
            continue
        assert pinned_ratings(cycle, engine_figures(cycle, result)) == []
        _, figures = naive_result(cycle, result)
        check_figures(cycle, figures)
        total += 1
        pinning += bool(pinned_ratings(cycle, figures))
    print(f"integer search, old value score: pins ratings in {pinning} of {total} cycles")
    assert pinning >= total / 5
