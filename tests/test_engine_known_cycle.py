"""A small cycle worked by hand: every number the engine reports, checked against pencil.

The framework has two values and five statements on the 1–5 scale (`_` is "Not seen"):

    value 0: s0 "We will" · s1 "We will" · s2 "We will not"
    value 1: s3 "We will" · s4 "We will not"

k = 3; norms need 3 subjects (the larger of norm_min_subjects = 2 and k); two highlights
per list; the rest at their defaults (blind-spot gap 1.0, agreement margin 0.5, good 4.0,
r_wg flag 0.5). A value score is the mean of the ratings in the value's shown statement
cells of a column, every rating weighing the same, a "We will not" rated x scoring 6 − x.
Gaps, changes, agreement, highlights and norms are read from the numbers as printed, to
one decimal (halves up: 4.25 prints as 4.3).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from feedback360.groups import (
    ALL_RATERS,
    DIRECT_REPORT,
    LINE_MANAGER,
    OTHER,
    OTHER_RATERS,
    PEER,
    SELF,
)
from feedback360.reports.engine.analysis import analyse_cycle
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.results import (
    OVER_ESTIMATOR,
    UNDER_ESTIMATOR,
    Agreement,
    Cell,
    Column,
    GroupStatus,
    Highlight,
    Norm,
)

_ = math.nan
ANA, BEN, CLEO = 0, 1, 2
CYCLE = {
    # Ana: peers and direct reports are shown, but several statements lose a cell to rule 4.
    ANA: [
        # group          s0 s1 s2 s3 s4
        (SELF, [5, 4, 2, 5, 4]),
        (PEER, [5, 4, 1, 4, _]),
        (PEER, [4, _, 2, 4, 1]),
        (PEER, [3, 4, 1, 5, 1]),
        (DIRECT_REPORT, [2, 3, 3, 4, 2]),
        (DIRECT_REPORT, [3, _, _, _, 2]),
        (DIRECT_REPORT, [2, 3, 3, 4, _]),
    ],
    # Ben: no group reaches 3, so his four raters are pooled as "Other raters".
    BEN: [
        (SELF, [3, 3, 3, 3, 3]),
        (LINE_MANAGER, [4, 5, 1, 4, 1]),
        (PEER, [4, 4, 1, 5, _]),
        (PEER, [5, 4, 2, 4, _]),
        (OTHER, [4, 5, 1, 4, 1]),
    ],
    # Cleo: three peers and no self-assessment.
    CLEO: [
        (PEER, [3, 3, 2, 3, 2]),
        (PEER, [3, 4, 2, 3, 2]),
        (PEER, [3, 3, 2, 4, 2]),
    ],
}
PREVIOUS = [[3.0, _], [4.0, 4.0], [_, _]]  # last time's "All raters" value scores
SETTINGS = CycleSettings(k=3, norm_min_subjects=2, highlights=2)
TOO_FEW = "Fewer than 3 ratings"
SUBTRACTION = "Hidden so that fewer than 3 ratings cannot be worked out from others"


@pytest.fixture(scope="module")
def cycle():
    # Rows go in newest-first, so the engine has to gather each subject's rows itself.
    rows = [(s, g, r) for s, responses in CYCLE.items() for g, r in responses][::-1]
    return analyse_cycle(
        CycleArrays(
            ratings=np.array([r for _, _, r in rows], dtype=float),
            subject=np.array([s for s, _, _ in rows]),
            group=np.array([GROUP_CODE[g] for _, g, _ in rows], dtype=np.int8),
            statement_value=np.array([0, 0, 0, 1, 1]),
            statement_positive=np.array([True, True, False, True, False]),
            n_subjects=3,
            n_values=2,
            previous_value_scores=np.array(PREVIOUS),
        ),
        SETTINGS,
    )


@pytest.fixture(scope="module")
def ana(cycle):
    return cycle.report(
        ANA,
        comments=[(0, SELF, "I listen."), (0, PEER, "Fair."), (1, DIRECT_REPORT, "Open.")],
    )


@pytest.fixture(scope="module")
def ben(cycle):
    return cycle.report(BEN, comments=[(1, LINE_MANAGER, "Honest."), (1, SELF, "Trying.")])


@pytest.fixture(scope="module")
def cleo(cycle):
    return cycle.report(CLEO)


def test_ana_sees_her_groups_and_their_sizes(ana):
    assert ana.columns == [
        Column(SELF, "Self", 1),
        Column(PEER, "Peers", 3),
        Column(DIRECT_REPORT, "Direct reports", 3),
        Column(ALL_RATERS, "All raters", 6),
    ]
    assert ana.groups == [
        GroupStatus(PEER, "Peers", 3, True),
        GroupStatus(DIRECT_REPORT, "Direct reports", 3, True),
    ]
    assert (ana.total_responses, ana.rater_scores_shown, ana.withheld_reason) == (6, True, None)
    assert ana.notes == []


def test_ana_s0_every_cell_by_hand(ana):
    cells = ana.statements[0].cells
    assert cells[SELF] == Cell(1, 0, 5.0, 0.0, 5, 5)
    # Peers 5, 4, 3: mean 4, squared deviations 1 + 0 + 1 over n − 1 = 2 gives sd 1.
    assert cells[PEER] == Cell(3, 0, 4.0, 1.0, 3, 5)
    # Direct reports 2, 3, 2: mean 7/3, squared deviations 1/9 + 4/9 + 1/9 = 2/3, / 2.
    assert cells[DIRECT_REPORT] == Cell(3, 0, pytest.approx(7 / 3), pytest.approx(3**-0.5), 2, 3)
    # All six: sum 19, sum of squares 67; variance (6·67 − 19²) / (6·5) = 41/30.
    everyone = cells[ALL_RATERS]
    assert (everyone.n, everyone.not_seen, everyone.low, everyone.high) == (6, 0, 2, 5)
    assert everyone.mean == pytest.approx(19 / 6)
    assert everyone.sd == pytest.approx((41 / 30) ** 0.5)
    assert everyone.distribution == (0, 2, 2, 1, 1)  # how many chose 1, 2, 3, 4, 5
    assert everyone.hidden_reason is None


def test_ana_cells_hidden_by_rule_4_keep_their_counts_and_say_why(ana):
    s1, s2, s3, s4 = (ana.statements[i].cells for i in (1, 2, 3, 4))
    # s1: two peers and two direct reports saw it; all four together may show.
    assert s1[PEER] == Cell(2, 1, None, None, None, None, TOO_FEW)
    assert s1[DIRECT_REPORT] == Cell(2, 1, None, None, None, None, TOO_FEW)
    assert s1[ALL_RATERS] == Cell(4, 2, 3.5, pytest.approx(3**-0.5), 3, 4, None, (0, 0, 2, 2, 0))
    # s2: only two direct reports; peers (3) beside all raters (5) would reveal them.
    assert s2[PEER] == Cell(3, 0, None, None, None, None, SUBTRACTION)
    assert s2[DIRECT_REPORT] == Cell(2, 1, None, None, None, None, TOO_FEW)
    assert s2[ALL_RATERS] == Cell(5, 1, 2.0, 1.0, 1, 3, None, (2, 1, 2, 0, 0))
    # s3: the same with the groups' roles swapped; 4, 4, 5, 4, 4 has variance 0.2.
    assert s3[PEER] == Cell(3, 0, None, None, None, None, SUBTRACTION)
    assert s3[DIRECT_REPORT] == Cell(2, 1, None, None, None, None, TOO_FEW)
    assert s3[ALL_RATERS] == Cell(5, 1, 4.2, pytest.approx(0.2**0.5), 4, 5, None, (0, 0, 0, 4, 1))
    # s4: two and two, neither shown; 1, 1, 2, 2 has variance 1/3.
    assert s4[PEER] == Cell(2, 1, None, None, None, None, TOO_FEW)
    assert s4[DIRECT_REPORT] == Cell(2, 1, None, None, None, None, TOO_FEW)
    assert s4[ALL_RATERS] == Cell(4, 2, 1.5, pytest.approx(3**-0.5), 1, 2, None, (2, 2, 0, 0, 0))


def test_ana_gaps_read_the_right_way_for_both_kinds_of_statement(ana):
    gaps = [s.gap for s in ana.statements]
    outlooks = [s.outlook for s in ana.statements]
    # gap = all raters − self as printed: 3.2 (19/6) − 5.0, 3.5 − 4, 2 − 2, 4.2 − 5, 1.5 − 4.
    assert gaps == [-1.8, -0.5, 0.0, -0.8, -2.5]
    # s2 and s4 are "We will not": others seeing s4 less often than Ana thinks is good.
    assert outlooks == [-1.8, -0.5, 0.0, -0.8, 2.5]


def test_ana_blind_spots_strengths_and_extremes(ana):
    # s0's gap is large, but her raters disagree on it (r_wg 19/60): only a possible one.
    assert ana.blind_spots == []
    assert ana.possible_blind_spots == [Highlight(0, pytest.approx(19 / 6), 5.0, -1.8)]
    assert ana.hidden_strengths == [Highlight(4, 1.5, 4.0, 2.5)]
    assert ana.possible_hidden_strengths == []
    # Positive statements by all raters' mean: s3 4.2, s1 3.5, s0 3.17; the lowest list
    # takes what the highest left.
    assert [h.statement_index for h in ana.highest] == [3, 1]
    assert [h.statement_index for h in ana.lowest] == [0]
    assert ana.highest[0] == Highlight(3, 4.2, 5.0, -0.8)
    # Negative statements seen most: s2 2.0, then s4 1.5.
    assert [(h.statement_index, h.others) for h in ana.most_seen_negative] == [(2, 2.0), (4, 1.5)]


def test_ana_agreement_between_raters(ana):
    # r_wg = 1 − variance / 2: s0 1 − (41/30)/2 = 19/60; s2 exactly 0.5 is not flagged.
    rwg = [s.rwg for s in ana.statements]
    assert rwg == pytest.approx([19 / 60, 5 / 6, 0.5, 0.9, 5 / 6])
    assert [s.raters_disagree for s in ana.statements] == [True, False, False, False, False]


def test_ana_value_scores_hold_only_the_ratings_in_shown_cells(ana):
    # Value 0 (s2 reversed): self (5 + 4 + 4)/3 = 13/3. Peers and direct reports show only
    # s0: 12/3 and 7/3. All raters show s0 (19 over 6), s1 (14 over 4) and s2 (1, 2, 1,
    # 3, 3 reversed: 20 over 5), every rating weighing the same: 53/15.
    value0 = ana.values[0]
    assert value0.scores == {
        SELF: pytest.approx(13 / 3),
        PEER: 4.0,
        DIRECT_REPORT: pytest.approx(7 / 3),
        ALL_RATERS: pytest.approx(53 / 15),  # 3.53
    }
    # Value 1 (s4 reversed): self (5 + 2)/2. Peers and direct reports show neither s3 nor
    # s4, so they have no value score; all raters: s3 21 over 5, s4 5, 5, 4, 4 over 4.
    value1 = ana.values[1]
    assert value1.scores == {
        SELF: 3.5,
        PEER: None,
        DIRECT_REPORT: None,
        ALL_RATERS: pytest.approx(39 / 9),
    }
    # Gaps as printed: 3.5 − 4.3 and 4.3 − 3.5.
    assert value0.gap == -0.8
    assert value1.gap == 0.8


def test_ana_self_other_agreement_per_value(ana):
    # Value 0: self − others = 4.3 − 3.5 = 0.8 > 0.5, and 3.5 is below "Often" (4.0).
    assert ana.values[0].agreement == Agreement(OVER_ESTIMATOR, good=False)
    assert ana.values[0].agreement.label == "Over-estimates"
    # Value 1: 3.5 − 4.3 = −0.8 < −0.5, and 4.3 reaches 4.0.
    assert ana.values[1].agreement == Agreement(UNDER_ESTIMATOR, good=True)


def test_ana_change_since_her_previous_report(ana):
    assert ana.values[0].change == 0.5  # 3.5 as printed − 3.0
    assert ana.values[1].change is None  # nothing shown last time


def test_norms_over_the_three_subjects(ana, ben, cleo):
    # s0 all-raters means as printed: Cleo 3.0, Ana 3.2 (19/6), Ben 4.3 (4.25). Quartiles
    # interpolate linearly at positions 0.5, 1 and 1.5; a percentile is the share below
    # plus half of the ties.
    assert ana.statements[0].norm == Norm(
        3,
        pytest.approx(3.1),
        pytest.approx(3.2),
        pytest.approx(3.75),
        pytest.approx(100 * 1.5 / 3),
    )
    assert ben.statements[0].norm.percentile == pytest.approx(100 * 2.5 / 3)
    assert cleo.statements[0].norm.percentile == pytest.approx(100 * 0.5 / 3)
    # s2: Ben 1.3 (1.25), Ana 2, Cleo 2 — Ana and Cleo tie: one below, half of two level.
    assert ana.statements[2].norm == Norm(
        3, pytest.approx(1.65), 2.0, 2.0, pytest.approx(100 * 2 / 3)
    )
    assert cleo.statements[2].norm.percentile == pytest.approx(100 * 2 / 3)
    assert ben.statements[2].norm.percentile == pytest.approx(100 * 0.5 / 3)
    # s4 is hidden for Ben, so only two subjects have it: no norm.
    assert ana.statements[4].norm is None
    assert ben.statements[4].norm is None
    # Value 0 as printed: Cleo 3.4 (31/9), Ana 3.5 (53/15), Ben 4.5.
    assert ana.values[0].norm == Norm(
        3, pytest.approx(3.45), 3.5, pytest.approx(4.0), pytest.approx(50.0)
    )
    # Value 1: Cleo 3.7 (11/3), Ana 4.3 (39/9) and Ben 4.3 (4.25) level: one below, half
    # of two level.
    assert ana.values[1].norm.percentile == pytest.approx(100 * 2 / 3)
    assert (ana.norm_subjects, ben.norm_subjects, cleo.norm_subjects) == (3, 3, 3)


def test_ben_is_shown_only_as_a_pool(ben):
    # Every rater is pooled, so "Other raters" would repeat "All raters": one column.
    assert [(c.key, c.responses) for c in ben.columns] == [
        (SELF, 1),
        (ALL_RATERS, 4),
    ]
    assert [(g.key, g.responses, g.shown) for g in ben.groups] == [
        (LINE_MANAGER, 1, False),
        (PEER, 2, False),
        (OTHER, 1, False),
    ]
    s0 = ben.statements[0].cells
    # 4, 4, 5, 4: sum 17, sum of squares 73, variance (4·73 − 17²)/(4·3) = 1/4.
    assert OTHER_RATERS not in s0
    assert s0[ALL_RATERS] == Cell(4, 0, 4.25, 0.5, 4, 5, None, (0, 0, 0, 3, 1))
    assert ben.statements[0].rwg == pytest.approx(1 - 0.25 / 2)
    # s4: two ratings in all raters (the pool holds the same two).
    s4 = ben.statements[4].cells
    assert s4[ALL_RATERS] == Cell(2, 2, None, None, None, None, TOO_FEW)
    assert ben.statements[4].gap is None
    assert ben.statements[4].rwg is None


def test_ben_values_strengths_and_extremes(ben):
    # Value 0: s0 17, s1 18 and s2 reversed 5 + 5 + 4 + 5, over 12 ratings → 4.5.
    # Value 1: s4 has only two ratings, so only s3 counts: 17/4 = 4.25. Self 3 on both.
    assert [v.scores for v in ben.values] == [
        {SELF: 3.0, ALL_RATERS: 4.5},
        {SELF: 3.0, ALL_RATERS: 4.25},
    ]
    for value in ben.values:
        assert value.agreement == Agreement(UNDER_ESTIMATOR, good=True)
    # Against 4.0 and 4.0 last time, as printed: 4.5 and 4.3.
    assert [v.change for v in ben.values] == [0.5, 0.3]
    # Outlooks as printed: 4.3 − 3, 1.5, 1.7 (s2 is "We will not": 1.3 seen against 3
    # thought), 1.3. His raters agree on all four (r_wg 0.83 or more); the list holds two
    # (highlights = 2), the other two are possible ones.
    assert [(h.statement_index, h.outlook) for h in ben.hidden_strengths] == [(2, 1.7), (1, 1.5)]
    assert [(h.statement_index, h.outlook) for h in ben.possible_hidden_strengths] == [
        (0, 1.3),
        (3, 1.3),
    ]
    assert ben.blind_spots == ben.possible_blind_spots == []
    # s0 and s3 tie at 4.25: statement order decides.
    assert [h.statement_index for h in ben.highest] == [1, 0]
    assert [h.statement_index for h in ben.lowest] == [3]
    assert [h.statement_index for h in ben.most_seen_negative] == [2]


def test_comments_are_labelled_by_the_column_that_shows_their_group(ana, ben):
    assert sorted((c.value_index, c.text, c.label) for c in ana.comments) == [
        (0, "Fair.", "Peers"),
        (0, "I listen.", "Self"),
        (1, "Open.", "Direct reports"),
    ]
    assert sorted((c.text, c.label) for c in ben.comments) == [
        ("Honest.", None),  # every rater is pooled: "Other raters" is not shown
        ("Trying.", "Self"),
    ]


def test_cleo_without_a_self_assessment(cleo):
    # Every rater is a peer: the Peers column would repeat "All raters".
    assert [c.key for c in cleo.columns] == [ALL_RATERS]
    s0 = cleo.statements[0]
    assert s0.cells[ALL_RATERS] == Cell(3, 0, 3.0, 0.0, 3, 3, None, (0, 0, 3, 0, 0))
    assert (s0.gap, s0.outlook, s0.rwg, s0.raters_disagree) == (None, None, 1.0, False)
    assert cleo.values[0].scores == {ALL_RATERS: pytest.approx(31 / 9)}
    assert cleo.values[1].scores == {ALL_RATERS: pytest.approx(11 / 3)}
    assert [v.agreement for v in cleo.values] == [None, None]
    assert [v.change for v in cleo.values] == [None, None]
    assert cleo.blind_spots == cleo.hidden_strengths == []
    # s1 and s3 tie at 10/3; s0 at 3 is lowest. Both negatives, at 2, were seen.
    assert [h.statement_index for h in cleo.highest] == [1, 3]
    assert [h.statement_index for h in cleo.lowest] == [0]
    assert [h.statement_index for h in cleo.most_seen_negative] == [2, 4]


def test_the_cycle_arrays_hold_what_the_reports_show(cycle):
    assert cycle.n_subjects == 3
    assert cycle.responses.tolist() == [[1, 0, 3, 3, 0], [1, 1, 2, 0, 1], [0, 0, 3, 0, 0]]
    assert cycle.column_shown.tolist() == [
        [True, False, True, True, False, False, True],
        [True, False, False, False, False, True, True],
        [False, False, True, False, False, False, True],
    ]
    assert cycle.others[ANA].tolist() == pytest.approx([19 / 6, 3.5, 2.0, 4.2, 1.5])
    assert np.isnan(cycle.others[BEN, 4])
    # Ratings in value 0's shown cells: self 3; peers and direct reports s0 alone; all 15.
    assert cycle.value_ratings[ANA, :, 0].tolist() == [3, 0, 3, 3, 0, 0, 15]
