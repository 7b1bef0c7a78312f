"""A generic attacker against the personal report: every number it shows, as an equation.

The unknowns are each rater's rating of each statement they rated. The attacker knows
everything structural (who is in which group, who said "Not seen" to what) and the self
and identifiable manager's ratings, which rule 1 shows on their own. Every shown number
that is linear in the ratings becomes an equation; no hidden rating, nor any sum of
fewer than k of them, may follow from the system. The same attacker against the value
score as it was before issue 13 (kept below as a small reference) recovers ratings, so
the test can fail. `test_anonymity_attack_search.py` adds rounding and whole numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from itertools import combinations, product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space
from scipy.sparse.csgraph import connected_components

from feedback360.groups import (
    ALL_RATERS,
    DIRECT_REPORT,
    LINE_MANAGER,
    OTHER,
    OTHER_RATERS,
    PEER,
    RATER_GROUPS,
    SELF,
)
from feedback360.reports.charts import one_decimal
from feedback360.reports.engine.analysis import analyse
from feedback360.reports.engine.columns import COLUMNS, exempt_columns, hide_cells
from feedback360.reports.engine.printed import printed
from feedback360.reports.engine.results import ReportResult, ValueResult
from feedback360.reports.render import compared, value_compared

SCALE = 5
NOT_SEEN = math.nan


@dataclass(frozen=True)
class Cycle:
    """One subject's responses, one row each, and the cycle's rules."""

    ratings: np.ndarray  # (rows, statements), NaN for "Not seen"
    groups: tuple[str, ...]
    statement_value: np.ndarray
    statement_positive: np.ndarray
    k: int
    manager_identifiable: bool

    @property
    def n_values(self) -> int:
        return int(self.statement_value.max()) + 1

    def report(self) -> ReportResult:
        return analyse(
            self.ratings,
            list(self.groups),
            self.statement_value,
            self.statement_positive,
            n_values=self.n_values,
            k=self.k,
            manager_identifiable=self.manager_identifiable,
        )

    def known(self, row: int) -> bool:
        """Self, and an identifiable manager, are shown on their own: the attacker has them."""
        return self.groups[row] == SELF or (
            self.manager_identifiable and self.groups[row] == LINE_MANAGER
        )

    @cached_property
    def unknowns(self) -> dict[tuple[int, int], int]:
        """(row, statement) of every rating the attacker does not have → its index."""
        rated = ~np.isnan(self.ratings)
        cells = [(r, s) for r, s in zip(*np.nonzero(rated), strict=True) if not self.known(r)]
        return {(int(r), int(s)): j for j, (r, s) in enumerate(cells)}

    @cached_property
    def truth(self) -> np.ndarray:
        return np.array([self.ratings[r, s] for r, s in self.unknowns], dtype=np.int64)

    def statements_of(self, value: int) -> list[int]:
        return np.flatnonzero(self.statement_value == value).tolist()


def random_cycle(
    rng: np.random.Generator,
    sizes: dict[str, int],
    lowest: int = 1,
    highest: int = SCALE,
    k: int = 3,
    identifiable: bool = False,
) -> Cycle:
    """A cycle of 2–4 values of 2–4 statements each, both kinds, with "Not seen" patterns
    that differ by group (how often) and by rater (which statements, sometimes a value)."""
    per_value = rng.integers(2, 5, size=rng.integers(2, 5))
    statement_value = np.repeat(np.arange(len(per_value)), per_value)
    positive = rng.random(len(statement_value)) < 0.6
    positive[0], positive[-1] = True, False
    groups = tuple(g for g in (SELF, *RATER_GROUPS) for _ in range(sizes.get(g, 0)))
    ratings = rng.integers(lowest, highest + 1, size=(len(groups), len(statement_value)))
    ratings = ratings.astype(float)
    skip = {g: rng.choice([0.0, 0.15, 0.4]) for g in RATER_GROUPS}
    for row, group in enumerate(groups):
        if group == SELF:
            continue
        ratings[row, rng.random(len(statement_value)) < skip[group]] = NOT_SEEN
        if rng.random() < 0.2:  # has not seen the person at work on a whole value
            ratings[row, statement_value == rng.integers(len(per_value))] = NOT_SEEN
    return Cycle(ratings, groups, statement_value, positive, k, identifiable)


@st.composite
def cycles(draw: st.DrawFn, lowest: int = 1, highest: int = SCALE, most: int = 6) -> Cycle:
    sizes = {SELF: draw(st.integers(0, 1)), LINE_MANAGER: draw(st.integers(0, 1))}
    sizes |= {g: draw(st.integers(0, most)) for g in (PEER, DIRECT_REPORT, OTHER)}
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k, identifiable = draw(st.integers(2, 4)), draw(st.booleans())
    return random_cycle(rng, sizes, lowest, highest, k, identifiable)


# The report's numbers as linear functions of the unknown ratings.


@dataclass(frozen=True)
class Figure:
    """A shown number as (a · x + b) / d + offset in the unknown ratings x (a, b, d whole)."""

    a: np.ndarray
    b: int
    d: int
    offset: Fraction
    shown: float  # as the report holds it
    printed: str  # as the reader sees it
    # A difference the report works out from two printed numbers: it tells nothing more
    # than they do, so only an exact (unrounded) attacker reads it as an equation.
    from_printed: bool = False

    def at(self, x: np.ndarray) -> Fraction:
        return Fraction(int(self.a @ x) + self.b, self.d) + self.offset


def members(cycle: Cycle, result: ReportResult, key: str) -> list[int]:
    """The rows behind a column, as anyone reading the report can tell."""
    if key == ALL_RATERS:
        return [r for r, g in enumerate(cycle.groups) if g != SELF]
    pooled = {g.key for g in result.groups if not g.shown}
    own = pooled if key == OTHER_RATERS else {key}
    return [r for r, g in enumerate(cycle.groups) if g in own]


def rating_sum(
    cycle: Cycle, rows: list[int], statements: list[int], scored: bool
) -> tuple[np.ndarray, int, int]:
    """a, b and the count of the sum of these rows' ratings of these statements.

    scored: "We will not" ratings count as scale + 1 − x, as in a value score.
    """
    a, b, count = np.zeros(len(cycle.unknowns), dtype=np.int64), 0, 0
    for s in statements:
        sign = 1 if cycle.statement_positive[s] or not scored else -1
        for r in rows:
            x = cycle.ratings[r, s]
            if math.isnan(x):
                continue
            count += 1
            b += 0 if sign > 0 else SCALE + 1
            if (r, s) in cycle.unknowns:
                a[cycle.unknowns[r, s]] += sign
            else:
                b += sign * int(x)
    return a, b, count


def cell_figures(cycle: Cycle, result: ReportResult) -> list[Figure]:
    """Every shown statement cell: its mean over its n ratings."""
    figures = []
    for s, statement in enumerate(result.statements):
        for key, cell in statement.cells.items():
            if cell.mean is not None:
                a, b, n = rating_sum(cycle, members(cycle, result, key), [s], scored=False)
                assert n == cell.n
                figures.append(Figure(a, b, n, Fraction(0), cell.mean, one_decimal(cell.mean)))
    return figures


def gap_figures(cycle: Cycle, result: ReportResult, from_printed: bool) -> list[Figure]:
    """Statement gaps: all raters' mean − self, self being known."""
    figures = []
    for s, statement in enumerate(result.statements):
        if statement.gap is None:
            continue
        own = Fraction(int(cycle.ratings[cycle.groups.index(SELF), s]))
        a, b, n = rating_sum(cycle, members(cycle, result, ALL_RATERS), [s], scored=False)
        figure = Figure(a, b, n, -own, statement.gap, compared(statement.gap), from_printed)
        figures.append(figure)
    return figures


def value_figures(
    cycle: Cycle, result: ReportResult, scores: dict[tuple[int, str], Figure], from_printed: bool
) -> list[Figure]:
    """Shown value scores, given each one's figure, and the value gaps between them."""
    figures = []
    for value in result.values:
        for key, score in value.scores.items():
            if score is not None:
                figure = scores[value.index, key]
                figures.append(replace(figure, shown=score, printed=one_decimal(score)))
        if value.gap is not None:
            own = scores[value.index, SELF].at(cycle.truth)
            others = scores[value.index, ALL_RATERS]
            gap = replace(others, offset=-own, shown=value.gap, printed=value_compared(value.gap))
            figures.append(replace(gap, from_printed=from_printed))
    return figures


def engine_figures(cycle: Cycle, result: ReportResult) -> list[Figure]:
    """What the engine shows: cells, value scores from shown cells alone, and gaps.

    The engine works gaps out from the printed numbers (checked by check_figures), so they
    tell a rounding attacker nothing more; the exact attacker takes them as exact.
    """
    scores = {}
    for value in result.values:
        statements = cycle.statements_of(value.index)
        for key, score in value.scores.items():
            if score is not None:
                held = [s for s in statements if result.statements[s].cells[key].mean is not None]
                a, b, n = rating_sum(cycle, members(cycle, result, key), held, scored=True)
                scores[value.index, key] = Figure(a, b, n, Fraction(0), score, "")
    return [
        *cell_figures(cycle, result),
        *gap_figures(cycle, result, from_printed=True),
        *value_figures(cycle, result, scores, from_printed=True),
    ]


# Before issue 13: a response counted towards a value where it rated at least half of the
# value's statements, scoring the mean of those ratings, and a column's score was the mean
# over the responses counted, shown where at least k counted (rule 4 on those counts).
# Gaps were the difference of the unrounded numbers.


def naive_result(cycle: Cycle, result: ReportResult) -> tuple[ReportResult, list[Figure]]:
    """The engine's report with value scores and gaps as they were made before issue 13."""
    keys = [c.key for c in result.columns]
    counted, scores = {}, {}
    for v, key in product(range(cycle.n_values), keys):
        statements = cycle.statements_of(v)
        counted[v, key] = [
            (r, rated)
            for r in members(cycle, result, key)
            if (rated := [s for s in statements if not math.isnan(cycle.ratings[r, s])])
            and 2 * len(rated) >= len(statements)
        ]
        if counted[v, key]:
            scores[v, key] = naive_score(cycle, counted[v, key])
    counts = np.zeros((1, len(COLUMNS), cycle.n_values), dtype=np.int64)
    for (v, key), rows in counted.items():
        counts[0, COLUMNS.index(key), v] = len(rows)
    shown = np.isin(COLUMNS, keys)[None]
    reason = hide_cells(counts, shown, exempt_columns(cycle.manager_identifiable), cycle.k)[0]
    values = []
    for v in range(cycle.n_values):
        value = {
            key: float(scores[v, key].at(cycle.truth))
            if (v, key) in scores and reason[COLUMNS.index(key), v] == 0
            else None
            for key in keys
        }
        both = value.get(ALL_RATERS) is not None and value.get(SELF) is not None
        values.append(ValueResult(v, value, value[ALL_RATERS] - value[SELF] if both else None))
    statements = [
        replace(s, gap=s.cells[ALL_RATERS].mean - s.cells[SELF].mean) if s.gap is not None else s
        for s in result.statements
    ]
    naive = replace(result, values=values, statements=statements)
    figures = [
        *cell_figures(cycle, naive),
        *gap_figures(cycle, naive, from_printed=False),
        *value_figures(cycle, naive, scores, from_printed=False),
    ]
    return naive, figures


def naive_score(cycle: Cycle, rows: list[tuple[int, list[int]]]) -> Figure:
    """The mean over responses of each one's mean scored rating, with whole a, b and d."""
    common = math.lcm(*(len(rated) for _, rated in rows))
    a, b = np.zeros(len(cycle.unknowns), dtype=np.int64), 0
    for r, rated in rows:
        part_a, part_b, count = rating_sum(cycle, [r], rated, scored=True)
        a += part_a * (common // count)
        b += part_b * (common // count)
    return Figure(a, b, common * len(rows), Fraction(0), 0.0, "")


# The attacker.


def determined_sets(figures: list[Figure], n_unknowns: int, k: int) -> list[tuple[int, ...]]:
    """Sets of fewer than k unknowns on which some nonzero combination is determined.

    A combination c is determined iff it is orthogonal to the null space N of the system;
    one supported on S exists iff the rows of N for S have rank below |S|. The system
    falls apart into components (unknowns linked by equations), and a smallest such set
    lies within one, so each component is checked on its own, every set at once.
    """
    if not figures or not n_unknowns:
        return []
    a = np.array([f.a for f in figures], dtype=float)
    linked = (a.T != 0).astype(float) @ (a != 0).astype(float)
    _, component = connected_components(linked, directed=False)
    found: list[tuple[int, ...]] = []
    for c in np.unique(component):
        unknowns = np.flatnonzero(component == c)
        system = a[np.flatnonzero((a[:, unknowns] != 0).any(axis=1))][:, unknowns]
        if not len(system):
            continue
        basis = null_space(system)
        gram = basis @ basis.T
        for size in range(1, min(k, len(unknowns) + 1)):
            sets = np.array(list(combinations(range(len(unknowns)), size)))
            smallest = np.linalg.eigvalsh(gram[sets[:, :, None], sets[:, None, :]])[:, 0]
            found += [tuple(unknowns[s].tolist()) for s in sets[smallest < 1e-10]]
    return found


def check_figures(cycle: Cycle, figures: list[Figure]) -> None:
    """The attacker's model of each number must give what the report shows.

    A difference made from printed numbers is that exactly: printed(a) − printed(b).
    """
    for figure in figures:
        exact = figure.at(cycle.truth)
        if figure.from_printed:
            own = -figure.offset
            tenths = round(10 * float(printed(exact + own))) - round(10 * float(printed(own)))
            assert figure.shown == tenths / 10
        else:
            assert float(exact) == pytest.approx(figure.shown, abs=1e-9)


def test_the_report_determines_no_rating_nor_any_sum_of_fewer_than_k():
    checked = Counter()

    @settings(max_examples=300, deadline=None)
    @given(cycles())
    def attack(cycle: Cycle) -> None:
        result = cycle.report()
        figures = engine_figures(cycle, result)
        check_figures(cycle, figures)
        assert determined_sets(figures, len(cycle.unknowns), cycle.k) == []
        checked["cycles"] += 1
        checked["unknowns"] += len(cycle.unknowns)

    attack()
    print(
        f"exact attacker: {checked['cycles']} cycles, {checked['unknowns']} unknown ratings,"
        " none determined"
    )


def lone_direct_report() -> Cycle:
    """The issue's example: value 0 has three statements and four direct reports each
    rated two of them, three the first two, one the first and the third: that last
    rating is the only direct report's rating of the third statement."""
    _ = NOT_SEEN
    rows = [
        (SELF, [4, 4, 4, 4, 2]),
        (PEER, [4, 3, 5, 4, 2]),
        (PEER, [5, 4, 4, 3, 1]),
        (PEER, [3, 4, 4, 5, 2]),
        (DIRECT_REPORT, [2, 3, _, 4, 2]),
        (DIRECT_REPORT, [3, 3, _, 4, 1]),
        (DIRECT_REPORT, [2, 4, _, 3, 2]),
        (DIRECT_REPORT, [3, _, 1, 4, 2]),
    ]
    return Cycle(
        ratings=np.array([r for _, r in rows], dtype=float),
        groups=tuple(g for g, _ in rows),
        statement_value=np.array([0, 0, 0, 1, 1]),
        statement_positive=np.array([True, True, True, True, False]),
        k=3,
        manager_identifiable=False,
    )


def test_the_old_value_score_gives_away_a_lone_direct_reports_rating():
    cycle = lone_direct_report()
    result = cycle.report()
    lone = cycle.unknowns[7, 2]
    assert result.statements[2].cells[DIRECT_REPORT].mean is None  # one rating: hidden

    naive, figures = naive_result(cycle, result)
    check_figures(cycle, figures)
    # Value score × 4 responses × 2 statements each, minus the two shown cells.
    score = naive.values[0].scores[DIRECT_REPORT]
    cells = result.statements[0].cells[DIRECT_REPORT], result.statements[1].cells[DIRECT_REPORT]
    recovered = score * 4 * 2 - sum(c.mean * c.n for c in cells)
    assert recovered == pytest.approx(1.0)
    assert (lone,) in determined_sets(figures, len(cycle.unknowns), cycle.k)

    # The engine's value score holds only the two shown cells, and gives nothing away.
    figures = engine_figures(cycle, result)
    check_figures(cycle, figures)
    assert result.values[0].scores[DIRECT_REPORT] == pytest.approx((2 + 3 + 2 + 3 + 3 + 3 + 4) / 7)
    assert determined_sets(figures, len(cycle.unknowns), cycle.k) == []


def test_the_attacker_finds_the_old_value_score_leaking_in_many_random_cycles():
    rng = np.random.default_rng(13)
    leaking = total = 0
    for _ in range(120):
        sizes = {SELF: 1, LINE_MANAGER: int(rng.integers(0, 2))}
        sizes |= {g: int(rng.integers(0, 7)) for g in (PEER, DIRECT_REPORT, OTHER)}
        cycle = random_cycle(
            rng, sizes, k=int(rng.integers(2, 5)), identifiable=bool(rng.random() < 0.5)
        )
        result = cycle.report()
        assert determined_sets(engine_figures(cycle, result), len(cycle.unknowns), cycle.k) == []
        _, figures = naive_result(cycle, result)
        check_figures(cycle, figures)
        total += result.rater_scores_shown
        leaking += bool(determined_sets(figures, len(cycle.unknowns), cycle.k))
    print(f"exact attacker, old value score: leaks in {leaking} of {total} cycles with scores")
    assert leaking >= total / 4
