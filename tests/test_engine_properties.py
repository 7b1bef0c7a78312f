"""Over random cycles, every shown number rests on k or more people and matches plain Python."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import Counter
from fractions import Fraction
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback360.groups import ALL_RATERS, GROUPS, LINE_MANAGER, OTHER_RATERS, RATER_GROUPS, SELF
from feedback360.reports.engine import cycle as cycle_module
from feedback360.reports.engine.analysis import analyse, analyse_cycle
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.results import (
    IN_AGREEMENT,
    MIXED,
    OVER_ESTIMATOR,
    UNDER_ESTIMATOR,
    Agreement,
    ReportResult,
)


@st.composite
def cycles(draw: st.DrawFn) -> dict:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_subjects = draw(st.integers(1, 5))
    n_statements, n_values = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    scale_points = draw(st.sampled_from([5, 5, 2, 7]))
    subjects, groups = [], []
    for subject in range(n_subjects):
        codes = [SELF] * draw(st.integers(0, 1))
        codes += [g for g in RATER_GROUPS for _ in range(draw(st.integers(0, 15)))]
        subjects += [subject] * len(codes)
        groups += codes
    ratings = rng.integers(1, scale_points + 1, size=(len(groups), n_statements)).astype(float)
    ratings[rng.random(ratings.shape) < draw(st.sampled_from([0.0, 0.2, 0.5, 0.9]))] = np.nan
    order = rng.permutation(len(groups)) if draw(st.booleans()) else np.arange(len(groups))
    previous = rng.integers(1, scale_points + 1, size=(n_subjects, n_values)).astype(float)
    previous[rng.random(previous.shape) < 0.3] = np.nan
    arrays = CycleArrays(
        ratings=ratings[order].reshape(len(groups), n_statements),
        subject=np.array(subjects, dtype=int)[order],
        group=np.array([GROUP_CODE[g] for g in groups], dtype=np.int8)[order],
        statement_value=rng.integers(0, n_values, size=n_statements),
        statement_positive=rng.random(n_statements) < 0.7,
        n_subjects=n_subjects,
        n_values=n_values,
        scale_points=scale_points,
        previous_value_scores=previous,
    )
    cycle_settings = CycleSettings(
        k=draw(st.integers(2, 5)),
        manager_identifiable=draw(st.booleans()),
        norm_min_subjects=draw(st.integers(1, 4)),
    )
    return {"arrays": arrays, "settings": cycle_settings, "block": draw(st.sampled_from([1, 2]))}


def printed(x: float) -> Fraction:
    """A mean or score as the report prints it: to the tenth, halves away from zero.

    Read as the exact ratio it stands for (a sum over a count), not as its binary float.
    """
    exact = Fraction(x).limit_denominator(10_000)
    tenths = math.floor(abs(exact) * 10 + Fraction(1, 2))
    return Fraction(tenths if exact >= 0 else -tenths, 10)


def rows_of(arrays: CycleArrays, subject: int) -> tuple[np.ndarray, list[str]]:
    mine = arrays.subject == subject
    return arrays.ratings[mine], [GROUPS[code] for code in arrays.group[mine]]


def comments_for(groups: list[str]) -> list[tuple[int, str, str]]:
    return [(0, group, f"Comment {row}") for row, group in enumerate(groups)]


def planned_columns(groups: list[str], k: int, identifiable: bool) -> list[str]:
    """Rules 1–4 for whole responses, the plain way: the columns a report should show."""
    count = Counter(groups)
    columns = [SELF] if count[SELF] else []
    if sum(count[g] for g in RATER_GROUPS) < k:
        return columns
    exempt = {LINE_MANAGER} if identifiable else set()
    own = [g for g in RATER_GROUPS if count[g] >= k or (g in exempt and count[g])]
    pooled = [g for g in RATER_GROUPS if count[g] and g not in own]
    while 0 < sum(count[g] for g in pooled) < k and [g for g in own if g not in exempt]:
        smallest = min((g for g in own if g not in exempt), key=count.__getitem__)
        own.remove(smallest)
        pooled.append(smallest)
    pool = sum(count[g] for g in pooled)
    columns += [g for g in RATER_GROUPS if g in own]
    # A pool of every rater would repeat "All raters": only that one shows.
    columns += [OTHER_RATERS] if pool >= k and own else []
    columns += [ALL_RATERS] if pool == 0 or pool >= k else []
    # So would a group that is every rater.
    everyone = sum(count[g] for g in RATER_GROUPS)
    if ALL_RATERS in columns:
        columns = [c for c in columns if c == ALL_RATERS or count[c] != everyone]
    return columns


def check_report(result: ReportResult, ratings: np.ndarray, groups: list[str], cycle: dict):
    """Every shown number against a plain-Python computation from this subject's rows."""
    arrays, cycle_settings = cycle["arrays"], cycle["settings"]
    k, identifiable = cycle_settings.k, cycle_settings.manager_identifiable
    scale = arrays.scale_points
    keys = [c.key for c in result.columns]
    assert keys == planned_columns(groups, k, identifiable)
    exempt = {SELF} | ({LINE_MANAGER} if identifiable else set())
    pooled = [g.key for g in result.groups if not g.shown]
    members = {OTHER_RATERS: pooled, ALL_RATERS: list(RATER_GROUPS)}
    rows = {key: [r for r, g in enumerate(groups) if g in members.get(key, [key])] for key in keys}
    raters = [key for key in keys if key not in (SELF, ALL_RATERS)]
    assert [c.responses for c in result.columns] == [len(rows[key]) for key in keys]
    labels = {c.label for c in result.columns} | {g.label for g in result.groups if g.shown}
    # Unlabelled only where every rater is pooled ("Other raters" would be "All raters").
    assert all(c.label in labels or c.label is None for c in result.comments)
    assert all(c.label is not None for c in result.comments) or OTHER_RATERS not in keys

    for s, statement in enumerate(result.statements):
        cells = statement.cells
        assert list(cells) == keys
        for key, cell in cells.items():
            column = [ratings[r, s] for r in rows[key]]
            seen = [float(x) for x in column if not np.isnan(x)]
            assert (cell.n, cell.not_seen) == (len(seen), len(column) - len(seen))
            if cell.mean is None:
                assert (cell.hidden_reason is None) == (cell.n == 0)
                assert cell.distribution is None
                continue
            assert key in exempt or cell.n >= k
            assert cell.mean == pytest.approx(statistics.mean(seen))
            assert cell.sd == pytest.approx(statistics.stdev(seen) if len(seen) > 1 else 0.0)
            assert (cell.low, cell.high) == (min(seen), max(seen))
            if key == ALL_RATERS:
                tally = Counter(seen)
                assert cell.distribution == tuple(tally[p] for p in range(1, scale + 1))
        everyone = cells.get(ALL_RATERS)
        if everyone is not None and everyone.mean is not None:
            visible = sum(cells[key].n for key in raters if cells[key].mean is not None)
            assert everyone.n - visible == 0 or everyone.n - visible >= k
            seen = [x for x in ratings[rows[ALL_RATERS], s] if not np.isnan(x)]
            expected = None
            if len(seen) > 1:
                null = (scale**2 - 1) / 12
                expected = min(1.0, max(0.0, 1 - statistics.variance(seen) / null))
            assert statement.rwg == pytest.approx(expected)
            assert statement.raters_disagree == (expected is not None and expected < 0.5)
            own = cells.get(SELF)
            if own is not None and own.mean is not None:
                gap = printed(everyone.mean) - printed(own.mean)  # as printed, to the tenth
                assert statement.gap == float(gap)
                positive = arrays.statement_positive[s]
                assert statement.outlook == float(gap if positive else -gap)
        else:
            assert (statement.gap, statement.rwg, statement.raters_disagree) == (None, None, False)

    check_values(result, ratings, rows, raters, exempt, cycle)
    check_highlights(result, arrays.statement_positive, k)


def check_highlights(result: ReportResult, positive: np.ndarray, k: int):
    """Blind spots, strengths and extremes, sorted and cut the plain way (defaults 1.0, 5).

    Means are compared as printed: no list or order may tell apart two that print the same.
    """
    others = {
        s.index: printed(cell.mean)
        for s in result.statements
        if (cell := s.cells.get(ALL_RATERS)) is not None and cell.mean is not None
    }
    outlook = {s.index: s.outlook for s in result.statements if s.outlook is not None}
    assert set(outlook) <= set(others)

    def indices(highlights):
        return [h.statement_index for h in highlights]

    # Named: a large gap, raters who agree (r_wg ≥ 0.5) and k ratings; five at most.
    # Possible: every other large gap.
    statements = {s.index: s for s in result.statements}

    def firm(s):
        statement = statements[s]
        agree = statement.rwg is not None and statement.rwg >= 0.5
        return agree and statement.cells[ALL_RATERS].n >= k

    worse = sorted((s for s in outlook if outlook[s] <= -1.0), key=lambda s: (outlook[s], s))
    better = sorted((s for s in outlook if outlook[s] >= 1.0), key=lambda s: (-outlook[s], s))
    blind_spots = [s for s in worse if firm(s)][:5]
    hidden_strengths = [s for s in better if firm(s)][:5]
    assert indices(result.blind_spots) == blind_spots
    assert indices(result.hidden_strengths) == hidden_strengths
    assert indices(result.possible_blind_spots) == [s for s in worse if s not in blind_spots]
    assert indices(result.possible_hidden_strengths) == [
        s for s in better if s not in hidden_strengths
    ]
    rated = [s for s in others if positive[s]]
    highest = sorted(rated, key=lambda s: (-others[s], s))[:5]
    assert indices(result.highest) == highest
    rest = [s for s in rated if s not in highest]
    assert indices(result.lowest) == sorted(rest, key=lambda s: (others[s], s))[:5]
    seen = [s for s in others if not positive[s] and others[s] > 1.0]
    assert indices(result.most_seen_negative) == sorted(seen, key=lambda s: (-others[s], s))[:5]
    for highlight in (
        result.blind_spots
        + result.possible_hidden_strengths
        + result.highest
        + result.most_seen_negative
    ):
        cell = result.statements[highlight.statement_index].cells[ALL_RATERS]
        assert highlight.others == cell.mean
        assert highlight.outlook == outlook.get(highlight.statement_index)


def check_values(result, ratings, rows, raters, exempt, cycle):
    """Value scores: the mean of every rating in the value's shown cells, negatives reversed."""
    arrays = cycle["arrays"]
    for value in result.values:
        statements = np.flatnonzero(arrays.statement_value == value.index)
        for key, score in value.scores.items():
            held = [
                x if arrays.statement_positive[s] else arrays.scale_points + 1 - x
                for s in statements
                if result.statements[s].cells[key].mean is not None
                for r in rows[key]
                if not np.isnan(x := ratings[r, s])
            ]
            if held:
                assert score == pytest.approx(statistics.mean(held))
            else:
                assert score is None
                # Self and an identifiable manager show every cell they rated.
                rated = [r for r in rows[key] for s in statements if not np.isnan(ratings[r, s])]
                assert key not in exempt or not rated
        everyone = value.scores.get(ALL_RATERS)
        own = value.scores.get(SELF)
        if own is not None and everyone is not None:
            gap = printed(everyone) - printed(own)
            assert value.gap == float(gap)
            # Within the margin with large statement gaps both ways is mixed, not agreement.
            outlooks = [result.statements[s].outlook for s in statements]
            both = any(o is not None and o >= 1.0 for o in outlooks) and any(
                o is not None and o <= -1.0 for o in outlooks
            )
            kind = (
                OVER_ESTIMATOR
                if -gap > 0.5
                else UNDER_ESTIMATOR
                if -gap < -0.5
                else MIXED
                if both
                else IN_AGREEMENT
            )
            assert value.agreement == Agreement(kind, printed(everyone) >= 4)
        else:
            assert value.gap is None
            assert value.agreement is None


def without_norms(result: ReportResult) -> ReportResult:
    return dataclasses.replace(
        result,
        statements=[dataclasses.replace(s, norm=None) for s in result.statements],
        values=[dataclasses.replace(v, norm=None, change=None) for v in result.values],
        norm_subjects=0,
    )


@settings(max_examples=150, deadline=None)
@given(cycles())
def test_every_report_of_a_cycle_keeps_the_rules_and_the_arithmetic(cycle):
    arrays, cycle_settings = cycle["arrays"], cycle["settings"]
    with mock.patch.object(cycle_module, "BLOCK_SUBJECTS", cycle["block"]):
        analysis = analyse_cycle(arrays, cycle_settings)
    reports = []
    for subject in range(arrays.n_subjects):
        ratings, groups = rows_of(arrays, subject)
        result = analysis.report(subject, comments_for(groups), seed=subject)
        check_report(result, ratings, groups, cycle)
        alone = analyse(
            ratings,
            groups,
            arrays.statement_value,
            arrays.statement_positive,
            n_values=arrays.n_values,
            k=cycle_settings.k,
            manager_identifiable=cycle_settings.manager_identifiable,
            scale_points=arrays.scale_points,
            comments=comments_for(groups),
            seed=subject,
        )
        assert without_norms(result) == without_norms(alone)
        reports.append(result)
    check_norms_and_change(reports, cycle)


def check_norms_and_change(reports: list[ReportResult], cycle: dict):
    """Norms over subjects with shown "All raters" scores; change against last time."""
    arrays, cycle_settings = cycle["arrays"], cycle["settings"]
    minimum = max(cycle_settings.norm_min_subjects, cycle_settings.k)

    def everyone(result: ReportResult, kind: str, index: int) -> Fraction | None:
        """The "All raters" score as printed: norms place printed numbers only."""
        if kind == "statements":
            cell = result.statements[index].cells.get(ALL_RATERS)
            score = None if cell is None else cell.mean
        else:
            score = result.values[index].scores.get(ALL_RATERS)
        return None if score is None else printed(score)

    for kind, count in (("statements", arrays.ratings.shape[1]), ("values", arrays.n_values)):
        for index in range(count):
            shown = [x for r in reports if (x := everyone(r, kind, index)) is not None]
            for result in reports:
                norm = getattr(result, kind)[index].norm
                mine = everyone(result, kind, index)
                if mine is None or len(shown) < minimum:
                    assert norm is None
                    continue
                quartiles = statistics.quantiles(map(float, shown), n=4, method="inclusive")
                p25, median, p75 = quartiles
                assert (norm.subjects, norm.p25, norm.median, norm.p75) == (
                    len(shown),
                    pytest.approx(p25),
                    pytest.approx(median),
                    pytest.approx(p75),
                )
                below = sum(x < mine for x in shown)
                level = sum(x == mine for x in shown)
                assert norm.percentile == pytest.approx(100 * (below + level / 2) / len(shown))
    for subject, result in enumerate(reports):
        norms = [r.norm.subjects for r in (*result.statements, *result.values) if r.norm]
        assert result.norm_subjects == max(norms, default=0)
        for value in result.values:
            before = arrays.previous_value_scores[subject, value.index]
            now = value.scores.get(ALL_RATERS)
            if now is None or np.isnan(before):
                assert value.change is None
            else:
                assert value.change == float(printed(now) - printed(before))
