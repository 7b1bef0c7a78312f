"""The analysis engine shows what it may and hides, with a reason, what it must."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from feedback360.reports.engine.analysis import analyse
from feedback360.reports.engine.results import ReportResult

NOT_SEEN = np.nan

# A small framework: value 0 has a "We will" and a "We will not", value 1 two "We will"s.
STATEMENT_VALUES = np.array([0, 0, 1, 1])
STATEMENT_POSITIVE = np.array([True, False, True, True])
TYPICAL = [4.0, 2.0, 3.0, 5.0]


def report(answers: dict[str, list[list[float]]], **options: object) -> ReportResult:
    """Analyse one report from each group's forms, one list of ratings per response."""
    rows = [row for group in answers for row in answers[group]]
    groups = [group for group in answers for _ in answers[group]]
    return analyse(
        np.array(rows, dtype=float).reshape(len(rows), 4),
        groups,
        STATEMENT_VALUES,
        STATEMENT_POSITIVE,
        n_values=2,
        **options,
    )


def forms(count: int, ratings: list[float] = TYPICAL) -> list[list[float]]:
    return [list(ratings) for _ in range(count)]


def column_keys(result: ReportResult) -> list[str]:
    return [column.key for column in result.columns]


def test_a_group_below_the_threshold_never_gets_a_column_of_its_own():
    result = report({SELF: forms(1), PEER: forms(4), DIRECT_REPORT: forms(2), OTHER: forms(1)})

    assert DIRECT_REPORT not in column_keys(result)
    assert OTHER not in column_keys(result)
    assert all(DIRECT_REPORT not in s.cells for s in result.statements)
    assert [(g.key, g.responses, g.shown) for g in result.groups] == [
        (PEER, 4, True),
        (DIRECT_REPORT, 2, False),
        (OTHER, 1, False),
    ]


def test_small_groups_are_pooled_as_other_raters_once_the_pool_reaches_k():
    result = report({SELF: forms(1), PEER: forms(4), DIRECT_REPORT: forms(2), OTHER: forms(1)})

    assert column_keys(result) == [SELF, PEER, OTHER_RATERS, ALL_RATERS]
    assert [(c.label, c.responses) for c in result.columns] == [
        ("Self", 1),
        ("Peers", 4),
        ("Other raters", 3),
        ("All raters", 7),
    ]
    assert result.total_responses == 7


def test_a_pool_too_small_to_show_pulls_in_the_smallest_shown_group():
    # Peers and all raters alone would give away the one "other" by subtraction.
    result = report({SELF: forms(1), PEER: forms(4), DIRECT_REPORT: forms(3), OTHER: forms(1)})

    assert column_keys(result) == [SELF, PEER, OTHER_RATERS, ALL_RATERS]
    assert result.columns[2].responses == 4
    assert [g.shown for g in result.groups] == [True, False, False]


def test_between_two_equal_groups_the_earlier_one_is_pooled():
    # Neither peers nor direct reports can stay beside a lone "other"; peers come first.
    result = report({PEER: forms(3), DIRECT_REPORT: forms(3), OTHER: forms(1)})

    assert column_keys(result) == [DIRECT_REPORT, OTHER_RATERS, ALL_RATERS]
    assert [c.responses for c in result.columns] == [3, 4, 7]


def test_too_few_raters_shows_no_rater_scores_and_says_why():
    result = report(
        {SELF: forms(1), PEER: forms(2)},
        comments=[(0, SELF, "I try hard."), (0, PEER, "Always on time.")],
    )

    assert not result.rater_scores_shown
    assert result.withheld_reason == (
        "Only 2 people have responded; at least 3 are needed before any rater scores are shown."
    )
    assert column_keys(result) == [SELF]
    assert list(result.statements[0].cells) == [SELF]
    assert result.values[0].scores == {SELF: 4.0}
    assert [c.text for c in result.comments] == ["I try hard."]


@pytest.mark.parametrize(
    ("raters", "reason"),
    [
        (0, "No one has responded yet; at least 4 are needed before any rater scores are shown."),
        (
            1,
            "Only 1 person has responded; at least 4 are needed before any rater scores are shown.",
        ),
    ],
)
def test_the_withheld_reason_reads_naturally_for_none_or_one(raters, reason):
    assert report({SELF: forms(1), PEER: forms(raters)}, k=4).withheld_reason == reason


def test_an_identifiable_manager_is_not_shown_while_all_raters_is_withheld():
    result = report(
        {SELF: forms(1), LINE_MANAGER: forms(1), PEER: forms(1)}, manager_identifiable=True
    )

    assert column_keys(result) == [SELF]
    assert not result.groups[0].shown


def test_an_identifiable_manager_is_shown_alone_even_as_one_response():
    result = report(
        {SELF: forms(1), LINE_MANAGER: [[5, 1, 5, 5]], PEER: forms(3)}, manager_identifiable=True
    )

    assert column_keys(result) == [SELF, LINE_MANAGER, PEER, ALL_RATERS]
    manager = result.statements[0].cells[LINE_MANAGER]
    assert (manager.n, manager.mean, manager.sd, manager.hidden_reason) == (1, 5.0, 0.0, None)
    assert result.groups[0].shown


def test_a_manager_who_is_not_identifiable_is_pooled_like_any_rater():
    result = report(
        {SELF: forms(1), LINE_MANAGER: forms(1), PEER: forms(3), DIRECT_REPORT: forms(2)}
    )

    assert column_keys(result) == [SELF, PEER, OTHER_RATERS, ALL_RATERS]
    assert result.columns[2].responses == 3
    assert not result.groups[0].shown


def test_an_identifiable_manager_with_too_few_other_raters_hides_all_raters():
    # All raters minus the manager would be the two peers' ratings.
    result = report(
        {SELF: forms(1), LINE_MANAGER: forms(1), PEER: forms(2)},
        manager_identifiable=True,
        comments=[(0, LINE_MANAGER, "Good year."), (0, PEER, "Quiet in meetings.")],
    )

    assert result.rater_scores_shown
    assert column_keys(result) == [SELF, LINE_MANAGER]
    assert result.notes == [
        "All raters is not shown: apart from the line manager, only 2 people have responded,"
        " and at least 3 are needed."
    ]
    assert [(c.text, c.label) for c in result.comments] == [("Good year.", "Line manager")]


def test_a_statement_too_few_peers_have_seen_is_blanked_with_its_neighbour():
    # One peer has not seen statement 0: peers have 2 ratings there, and all raters minus
    # direct reports would reveal them, so direct reports go blank too.
    peers = [[NOT_SEEN, 2, 3, 5], [4, 2, 3, 5], [2, 2, 3, 5]]
    result = report({SELF: forms(1), PEER: peers, DIRECT_REPORT: forms(3, [5, 1, 4, 4])})

    first = result.statements[0].cells
    assert (first[PEER].n, first[PEER].not_seen, first[PEER].mean) == (2, 1, None)
    assert first[PEER].hidden_reason == "Fewer than 3 ratings"
    assert first[DIRECT_REPORT].mean is None
    assert first[DIRECT_REPORT].hidden_reason == (
        "Hidden so that fewer than 3 ratings cannot be worked out from others"
    )
    assert first[ALL_RATERS].mean == pytest.approx((4 + 2 + 5 * 3) / 5)
    second = result.statements[1].cells
    assert second[PEER].mean == 2.0
    assert second[DIRECT_REPORT].mean == 1.0


def test_all_raters_is_blank_where_fewer_than_k_have_seen_the_behaviour():
    peers = [[4, NOT_SEEN, 3, 5], [4, NOT_SEEN, 3, 5], [4, 2, 3, 5]]
    cell = report({SELF: forms(1), PEER: peers}).statements[1].cells[ALL_RATERS]

    assert (cell.n, cell.not_seen, cell.mean, cell.low, cell.high) == (1, 2, None, None, None)
    assert cell.hidden_reason == "Fewer than 3 ratings"


def test_a_statement_nobody_has_seen_is_empty_but_not_hidden():
    result = report({SELF: [[4, NOT_SEEN, 3, 5]], PEER: forms(3, [4, NOT_SEEN, 3, 5])})

    for cell in result.statements[1].cells.values():
        assert (cell.n, cell.mean, cell.hidden_reason) == (0, None, None)
    assert result.statements[1].gap is None


def test_the_manager_cell_stays_while_all_raters_goes_blank_to_protect_peers():
    peers = [[NOT_SEEN, 2, 3, 5], [4, 2, 3, 5], [4, 2, 3, 5]]
    result = report(
        {SELF: forms(1), LINE_MANAGER: forms(1), PEER: peers}, manager_identifiable=True
    )

    cells = result.statements[0].cells
    assert cells[LINE_MANAGER].mean == 4.0
    assert cells[PEER].mean is None
    assert cells[ALL_RATERS].mean is None
    assert cells[ALL_RATERS].hidden_reason.startswith("Hidden so that")


def test_scores_match_a_hand_computation():
    peers = [[5, 1, 3, 4], [3, 2, 3, 4], [4, 3, 3, 4], [4, NOT_SEEN, 3, 4]]
    result = report({SELF: [[2, 1, 3, 4]], PEER: peers})

    cell = result.statements[0].cells[ALL_RATERS]
    assert (cell.n, cell.not_seen, cell.low, cell.high) == (4, 0, 3, 5)
    assert cell.mean == 4.0
    assert cell.sd == pytest.approx(statistics.stdev([5, 3, 4, 4]))
    assert result.statements[0].gap == 2.0
    assert result.statements[1].cells[ALL_RATERS].not_seen == 1
    assert result.statements[1].cells[ALL_RATERS].mean == 2.0


def test_negative_statements_are_reverse_scored_in_value_scores_only():
    # Statement 1 is a "We will not": rated 2 it is seen rarely, which scores 6 − 2 = 4.
    result = report({SELF: [[4, 2, 3, 5]], PEER: forms(3, [5, 4, 3, 3])})

    assert result.statements[1].cells[SELF].mean == 2.0
    assert result.values[0].scores == {SELF: 4.0, ALL_RATERS: 3.5}
    assert result.values[0].gap == -0.5
    assert result.values[1].scores[SELF] == 4.0
    assert result.values[1].gap == -1.0


def test_a_value_score_leaves_out_the_ratings_of_a_hidden_cell():
    # Value 0 has two statements; only one peer rated the "We will not", so its cell is
    # hidden and its 3 (reversed, 3) is in no value score: peers score 5.0, not 14/3.
    peers = [[5, NOT_SEEN, 3, 3], [5, NOT_SEEN, 3, 3], [5, 3, 3, 3]]
    result = report({SELF: forms(1), PEER: peers})

    assert result.statements[1].cells[ALL_RATERS].mean is None
    assert result.values[0].scores[ALL_RATERS] == 5.0


def test_a_value_score_weighs_every_rating_in_its_shown_cells_the_same():
    # A three-statement value; the fourth peer rated only the first statement. Its rating
    # counts as much as any other: (4 + 4 + 2 + 5) + (4 + 4 + 2) reversed + (3 + 3 + 3),
    # over 10 ratings.
    peers = [[4, 2, 3], [4, 2, 3], [2, 4, 3], [5, NOT_SEEN, NOT_SEEN]]
    result = analyse(
        np.array(peers, dtype=float),
        [PEER] * 4,
        np.array([0, 0, 0]),
        np.array([True, False, True]),
        n_values=1,
    )

    assert result.statements[0].cells[ALL_RATERS].mean == 3.75
    assert result.values[0].scores[ALL_RATERS] == pytest.approx(34 / 10)


def test_a_value_score_with_none_of_its_cells_shown_is_not_shown():
    # The second peer saw neither statement of value 0, so both its cells have too few.
    peers = [[4, 2, 3, 3], [NOT_SEEN, NOT_SEEN, 3, 3], [2, NOT_SEEN, 3, 3]]
    result = report({SELF: forms(1), PEER: peers})

    assert result.values[0].scores == {SELF: 4.0, ALL_RATERS: None}
    assert result.values[1].scores[ALL_RATERS] == 3.0


def test_comments_are_labelled_only_with_groups_that_are_shown():
    result = report(
        {SELF: forms(1), PEER: forms(3), DIRECT_REPORT: forms(2), OTHER: forms(1)},
        comments=[
            (0, SELF, "I could delegate more."),
            (0, PEER, "Listens well."),
            (1, DIRECT_REPORT, "  Makes time for us.  "),
            (1, OTHER, "Easy to work with."),
        ],
    )

    shown = {c.text: (c.value_index, c.label) for c in result.comments}
    assert shown == {
        "I could delegate more.": (0, "Self"),
        "Listens well.": (0, "Peers"),
        "  Makes time for us.  ": (1, "Other raters"),
        "Easy to work with.": (1, "Other raters"),
    }


def test_comment_order_is_random_but_the_same_for_the_same_seed():
    comments = [(0, PEER, f"Comment {i}") for i in range(12)]
    answers = {PEER: forms(3)}

    def order(seed: int) -> list[str]:
        return [c.text for c in report(answers, comments=comments, seed=seed).comments]

    assert order(7) == order(7)
    assert sorted(order(7)) == sorted(text for _, _, text in comments)
    assert len({tuple(order(seed)) for seed in range(5)}) > 1


@pytest.mark.parametrize("k", [1, 0, -3])
def test_a_threshold_below_two_is_refused(k):
    with pytest.raises(ValueError, match="at least 2"):
        report({PEER: forms(3)}, k=k)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({SELF: forms(2)}, "at most one self"),
        ({"friend": forms(3)}, "Unknown rater groups"),
        ({PEER: forms(3, [4, 2, 3, 6])}, "whole numbers from 1 to 5"),
        ({PEER: forms(3, [4, 2, 3, 2.5])}, "whole numbers from 1 to 5"),
    ],
)
def test_impossible_input_is_refused(answers, message):
    with pytest.raises(ValueError, match=message):
        report(answers)


@st.composite
def cycles(draw: st.DrawFn) -> dict:
    k = draw(st.integers(2, 5))
    sizes = {g: draw(st.integers(0, 15)) for g in RATER_GROUPS}
    codes = [SELF] * draw(st.integers(0, 1)) + [g for g in RATER_GROUPS for _ in range(sizes[g])]
    n_statements = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ratings = rng.integers(1, 6, size=(len(codes), n_statements)).astype(float)
    ratings[rng.random(ratings.shape) < draw(st.sampled_from([0.0, 0.2, 0.5, 0.9]))] = np.nan
    n_values = draw(st.integers(1, 3))
    return {
        "ratings": ratings,
        "groups": codes,
        "statement_values": rng.integers(0, n_values, size=n_statements),
        "statement_positive": rng.random(n_statements) < 0.7,
        "n_values": n_values,
        "k": k,
        "manager_identifiable": draw(st.booleans()),
        "comments": [(0, code, f"Comment {row}") for row, code in enumerate(codes)],
    }


@settings(max_examples=200, deadline=None)
@given(cycles())
def test_no_shown_number_rests_on_fewer_than_k_people(cycle):
    result = analyse(**cycle)
    k, codes, ratings = cycle["k"], np.array(cycle["groups"]), cycle["ratings"]
    exempt = {SELF} | ({LINE_MANAGER} if cycle["manager_identifiable"] else set())
    pooled = [g.key for g in result.groups if not g.shown]
    members = {SELF: [SELF], OTHER_RATERS: pooled, ALL_RATERS: list(RATER_GROUPS)}
    responses = {c.key: c.responses for c in result.columns}
    raters = [key for key in responses if key not in (SELF, ALL_RATERS)]

    assert result.rater_scores_shown == (result.total_responses >= k)
    if result.rater_scores_shown and not cycle["manager_identifiable"]:
        assert ALL_RATERS in responses
    labels = {c.label for c in result.columns} | {g.label for g in result.groups if g.shown}
    # Unlabelled only where every rater is pooled ("Other raters" would be "All raters").
    assert all(c.label in labels or c.label is None for c in result.comments)
    for key in responses:
        assert key in exempt | {ALL_RATERS} or responses[key] >= k
    if ALL_RATERS in responses:
        beyond = responses[ALL_RATERS] - sum(responses[key] for key in raters)
        assert beyond == 0 or beyond >= k

    for s, statement in enumerate(result.statements):
        cells = statement.cells
        for key, cell in cells.items():
            rows = ratings[np.isin(codes, members.get(key, [key])), s]
            seen = [float(x) for x in rows if not np.isnan(x)]
            assert (cell.n, cell.not_seen) == (len(seen), len(rows) - len(seen))
            if cell.mean is None:
                continue
            assert key in exempt or cell.n >= k
            assert cell.mean == pytest.approx(statistics.mean(seen))
            assert cell.sd == pytest.approx(statistics.stdev(seen) if len(seen) > 1 else 0.0)
            assert (cell.low, cell.high) == (min(seen), max(seen))
        if ALL_RATERS in cells and cells[ALL_RATERS].mean is not None:
            visible = sum(cells[key].n for key in raters if cells[key].mean is not None)
            beyond = cells[ALL_RATERS].n - visible
            assert beyond == 0 or beyond >= k
