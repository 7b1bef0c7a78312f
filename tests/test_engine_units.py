"""The engine's edges: agreement bands, norms, odd cycles and input it refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from feedback360.groups import ALL_RATERS, PEER, SELF
from feedback360.reports.engine.analysis import analyse_cycle
from feedback360.reports.engine.columns import ALL_COLUMN, SUBTRACTION, TOO_FEW, VISIBLE
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.insights import agreement
from feedback360.reports.engine.norms import cycle_norms
from feedback360.reports.engine.results import (
    IN_AGREEMENT,
    OVER_ESTIMATOR,
    UNDER_ESTIMATOR,
    Agreement,
)


def arrays(rows: list[tuple[int, str, list[float]]], n_subjects: int, **fields) -> CycleArrays:
    """A cycle of two statements (one value, the second a "We will not") from its rows."""
    n_statements = len(rows[0][2]) if rows else 2
    return CycleArrays(
        ratings=np.array([r for _, _, r in rows], dtype=float).reshape(len(rows), n_statements),
        subject=np.array([s for s, _, _ in rows], dtype=int),
        group=np.array([GROUP_CODE[g] for _, g, _ in rows], dtype=np.int8),
        statement_value=np.zeros(n_statements, dtype=int),
        statement_positive=np.arange(n_statements) == 0,
        n_subjects=n_subjects,
        n_values=1,
        **fields,
    )


@pytest.mark.parametrize(
    ("own", "others", "expected"),
    [
        (4.6, 4.0, Agreement(OVER_ESTIMATOR, True)),
        (4.5, 4.0, Agreement(IN_AGREEMENT, True)),  # exactly the margin is agreement
        (3.5, 4.0, Agreement(IN_AGREEMENT, True)),
        (3.4, 4.0, Agreement(UNDER_ESTIMATOR, True)),
        (3.0, 3.9, Agreement(UNDER_ESTIMATOR, False)),
        (3.0, 3.2, Agreement(IN_AGREEMENT, False)),
    ],
)
def test_self_other_agreement_bands(own, others, expected):
    assert agreement(own, others, CycleSettings()) == expected


def test_agreement_labels_read_for_a_coach():
    assert Agreement(IN_AGREEMENT, True).label == "In agreement, rated well"
    assert Agreement(UNDER_ESTIMATOR, False).label == "Under-estimates, rated low"


def test_norms_need_enough_subjects_and_split_ties():
    scores = np.array([[2.0, 1.0], [2.0, math.nan], [3.0, 5.0], [1.0, math.nan]])
    norms = cycle_norms(scores, minimum=3, scale_points=5)

    assert norms.subjects.tolist() == [4, 0]
    assert norms.quartiles[0].tolist() == [1.75, 2.0, 2.25]
    assert np.isnan(norms.quartiles[1]).all()
    percentile = norms.percentile(scores)
    # 1 below and 2 level of 4: (1 + 1) / 4; the lone 3 has three below: 3.5 / 4.
    assert percentile[:, 0].tolist() == [50.0, 50.0, 87.5, 12.5]
    assert np.isnan(percentile[:, 1]).all()


def test_norms_of_a_cycle_without_subjects():
    norms = cycle_norms(np.empty((0, 3)), minimum=3, scale_points=5)

    assert norms.subjects.tolist() == [0, 0, 0]
    assert np.isnan(norms.percentile(np.array([1.0, 2.0, 3.0]))).all()


def test_a_cycle_without_responses_shows_nothing():
    analysis = analyse_cycle(arrays([], n_subjects=2), CycleSettings())
    result = analysis.report(1)

    assert (result.columns, result.groups, result.total_responses) == ([], [], 0)
    assert result.withheld_reason.startswith("No one has responded yet")
    assert [s.cells for s in result.statements] == [{}, {}]
    assert result.values[0].scores == {}


def test_a_subject_with_no_raters_keeps_only_the_self_column_beside_others():
    rows = [(0, SELF, [4, 2])] + [(1, PEER, [3, 3])] * 3
    analysis = analyse_cycle(arrays(rows, n_subjects=2), CycleSettings())

    assert [c.key for c in analysis.report(0).columns] == [SELF]
    # Only peers responded for subject 1: their column would repeat "All raters".
    assert [c.key for c in analysis.report(1).columns] == [ALL_RATERS]
    assert analysis.report(1).values[0].scores == {ALL_RATERS: 3.0}


def test_the_cycle_arrays_answer_for_every_subject_at_once():
    # Subject 0: three peers; subject 1: two peers, too few.
    rows = [(0, PEER, [4, 1]), (0, PEER, [5, math.nan]), (0, PEER, [3, 2]), (1, PEER, [2, 2])]
    rows += [(1, PEER, [4, 4])]
    analysis = analyse_cycle(arrays(rows, n_subjects=2), CycleSettings())

    assert analysis.n[0, ALL_COLUMN].tolist() == [3, 2]
    assert analysis.not_seen[0, ALL_COLUMN].tolist() == [0, 1]
    assert analysis.reason[0, ALL_COLUMN].tolist() == [VISIBLE, TOO_FEW]
    assert analysis.means[0, ALL_COLUMN, 0] == 4.0
    assert np.isnan(analysis.means[0, ALL_COLUMN, 1])
    assert not analysis.column_shown[1].any()
    assert analysis.rwg[0, 0] == pytest.approx(1 - 1 / 2)
    assert TOO_FEW != SUBTRACTION


def test_a_subject_with_hundreds_of_raters_is_counted_exactly():
    rows = [(0, PEER, [float(1 + i % 5), 3.0]) for i in range(700)]
    result = analyse_cycle(arrays(rows, n_subjects=1), CycleSettings()).report(0)

    cell = result.statements[0].cells[ALL_RATERS]
    assert (cell.n, cell.mean, cell.distribution) == (700, 3.0, (140,) * 5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_subjects": 1}, "subject from 0 to 0"),
        ({"group": np.array([0, 7])}, "Unknown rater group codes: \\[7\\]"),
        ({"scale_points": 1}, "from 2 to 255 points"),
        ({"statement_value": np.array([0, 1])}, "value from 0 to 0"),
        ({"statement_positive": np.array([True])}, "one entry per statement"),
        ({"subject": np.array([0])}, "one entry per response"),
        ({"previous_value_scores": np.zeros((2, 2))}, "a row per subject"),
        ({"group": np.array([0, 0]), "subject": np.array([1, 1])}, "subject 1 has 2"),
        ({"ratings": np.array([[4.0, 0.0], [1.0, 2.0]])}, "whole numbers from 1 to 5"),
        ({"ratings": np.array([[4.0, np.inf], [1.0, 2.0]])}, "whole numbers from 1 to 5"),
        ({"ratings": np.array([[4.0, -1.0], [1.0, 2.0]])}, "whole numbers from 1 to 5"),
        ({"ratings": np.array([[4.0, 300.0], [1.0, 2.0]])}, "whole numbers from 1 to 5"),
    ],
)
def test_impossible_cycles_are_refused(change, message):
    fields = {
        "ratings": np.array([[4.0, 2.0], [3.0, 1.0]]),
        "subject": np.array([0, 1]),
        "group": np.array([0, 2]),
        "statement_value": np.array([0, 0]),
        "statement_positive": np.array([True, False]),
        "n_subjects": 2,
        "n_values": 1,
    } | change
    with pytest.raises(ValueError, match=message):
        analyse_cycle(CycleArrays(**fields), CycleSettings())


def test_a_threshold_below_two_is_refused_for_a_cycle():
    with pytest.raises(ValueError, match="at least 2"):
        analyse_cycle(arrays([(0, PEER, [4, 2])], n_subjects=1), CycleSettings(k=1))


def test_asking_for_a_subject_outside_the_cycle_is_an_error():
    analysis = analyse_cycle(arrays([(0, PEER, [4, 2])], n_subjects=1), CycleSettings())

    with pytest.raises(IndexError, match="no subject 1"):
        analysis.report(1)
