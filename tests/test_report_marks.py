"""Issue 17: marks that mean something, numbers a reader can check.

Blind spots and hidden strengths only where the gap is large, the raters agree and at least
k rated the statement, five at most each way; the rest "possible". A value whose statements
differ a lot both ways is not "in agreement". Gaps are the differences of the printed
numbers. "Other raters" is not shown when it is "All raters". One name for "Not seen".
"""

from __future__ import annotations

import html as html_module
import math
import re
from datetime import date

import numpy as np

from feedback360.groups import ALL_RATERS, DIRECT_REPORT, OTHER, OTHER_RATERS, PEER, SELF
from feedback360.reports.engine.analysis import analyse
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.insights import highlights
from feedback360.reports.engine.printed import printed
from feedback360.reports.engine.results import (
    IN_AGREEMENT,
    MIXED,
    Cell,
    ReportDocument,
    ReportResult,
    StatementResult,
    StatementText,
    ValueText,
)
from feedback360.reports.render import report_html

_ = math.nan


def document(result: ReportResult, n_statements: int, n_values: int) -> ReportDocument:
    return ReportDocument(
        subject_name="Sam Patel",
        subject_first_name="Sam",
        cycle_name="Spring 2027",
        framework_name="MPS values 2006",
        preamble="",
        scale=["Never", "Rarely", "Sometimes", "Often", "Always"],
        generated_on=date(2027, 3, 1),
        threshold=3,
        values=[ValueText(f"Value {v}", "") for v in range(n_values)],
        statements=[
            StatementText(f"do thing number {s}", True, s % n_values) for s in range(n_statements)
        ],
        result=result,
    )


def visible_text(page: str) -> str:
    """The page's words as a reader sees them: no style block, tags or entities."""
    body = page.split("<body>", 1)[1]
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# Self 5 on the first eight statements, 1 on the last two; four peers (k = 3).
SELF_RATINGS = [5, 5, 5, 5, 5, 5, 5, 5, 1, 1]
PEER_RATINGS = [
    # s0–s6 agree: gaps −4, −4, −3, −3, −2, −2, −1. s7: 1, 5, 1, 5 (−2, raters disagree).
    # s8 and s9 agree at 4: +3 each.
    [1, 1, 2, 2, 3, 3, 4, 1, 4, 4],
    [1, 1, 2, 2, 3, 3, 4, 5, 4, 4],
    [1, 1, 2, 2, 3, 3, 4, 1, 4, 4],
    [1, 1, 2, 2, 3, 3, 4, 5, 4, 4],
]


def marked_cycle():
    ratings = np.array([SELF_RATINGS, *PEER_RATINGS], dtype=float)
    return analyse(
        ratings,
        [SELF] + [PEER] * 4,
        np.zeros(10, dtype=int),
        np.ones(10, dtype=bool),
        n_values=1,
    )


def indices(rows):
    return [h.statement_index for h in rows]


def test_at_most_five_marks_each_way_only_where_raters_agree_the_rest_possible():
    result = marked_cycle()

    assert result.statements[7].raters_disagree
    assert indices(result.blind_spots) == [0, 1, 2, 3, 4]  # largest first, five at most
    # The sixth and seventh agreed ones, and s7 (raters disagree) by gap, ties by order.
    assert indices(result.possible_blind_spots) == [5, 7, 6]
    assert indices(result.hidden_strengths) == [8, 9]
    assert result.possible_hidden_strengths == []
    for h in result.blind_spots + result.hidden_strengths:
        statement = result.statements[h.statement_index]
        assert not statement.raters_disagree
        assert statement.rwg >= CycleSettings().rwg_flag
        assert statement.cells[ALL_RATERS].n >= 3


def test_a_mark_needs_at_least_k_ratings_behind_the_raters_score():
    # Made by hand: a large agreed gap on two ratings is only possible when k is 3.
    def statement(index: int, n: int) -> StatementResult:
        cells = {SELF: Cell(1, 0, 5.0, 0.0, 5, 5), ALL_RATERS: Cell(n, 0, 2.0, 0.0, 2, 2)}
        return StatementResult(index, cells, gap=-3.0, outlook=-3.0, rwg=1.0)

    found = highlights(
        [statement(0, 2), statement(1, 3)], np.ones(2, dtype=bool), CycleSettings(k=3)
    )
    assert indices(found["blind_spots"]) == [1]
    assert indices(found["possible_blind_spots"]) == [0]


def test_the_report_lists_strengths_first_and_marks_possible_ones_in_words():
    page = report_html(document(marked_cycle(), 10, 1))
    text = visible_text(page)

    lists = text.split("Blind spots and hidden strengths")[-1]
    assert lists.index("Hidden strengths: others see better") < lists.index(
        "Blind spots: others see worse"
    )
    assert "3 more statements with a gap of 1.0 or more are marked “possible blind spot”" in text
    row = re.search(r'<tr id="s-7">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r'<td class="num gap possible">[^<]*possible blind spot</td>', row)
    row = re.search(r'<tr id="s-0">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r'<td class="num gap marked blind-spot">[^<]*\nblind spot</td>', row)


def test_a_value_with_large_gaps_both_ways_is_not_in_agreement():
    # One value: s0 others +2 above self, s1 −2 below, s2 level; the value's gap is 0.0.
    ratings = np.array([[3, 5, 3], [5, 3, 3], [5, 3, 3], [5, 3, 3]], dtype=float)
    result = analyse(
        ratings,
        [SELF, PEER, PEER, PEER],
        np.zeros(3, dtype=int),
        np.ones(3, dtype=bool),
        n_values=1,
    )
    value = result.values[0]

    assert value.gap == 0.0
    assert value.agreement.kind == MIXED != IN_AGREEMENT
    assert value.agreement.label.startswith("Mixed: ")
    assert "in agreement" not in value.agreement.label.lower()
    text = visible_text(report_html(document(result, 3, 1)))
    assert "Self-other agreement: Mixed: others see some statements better and some worse" in text


def test_gaps_are_the_differences_of_the_printed_numbers():
    # Self 5 and 4 (value 4.5); ten peers 36 and 35 over 20 ratings (value 3.55, printed
    # 3.6). Unrounded the gap is −0.95, which would print −1.0; the reader's −0.9 it is.
    peers = [[4, 4]] * 5 + [[4, 3], [3, 4], [3, 3], [3, 3], [3, 2]]
    ratings = np.array([[5, 4], *peers], dtype=float)
    assert ratings[1:].sum() == 71
    result = analyse(
        ratings, [SELF] + [PEER] * 10, np.zeros(2, dtype=int), np.ones(2, dtype=bool), n_values=1
    )
    value = result.values[0]
    assert printed(value.scores[SELF]) == 4.5
    assert printed(value.scores[ALL_RATERS]) == 3.6
    assert value.gap == -0.9

    page = report_html(document(result, 2, 1))
    assert "Others score you 0.9 lower than you do" in visible_text(page)
    for s in range(2):
        row = re.search(rf'<tr id="s-{s}">(.*?)</tr>', page, re.S).group(1)
        own = float(re.search(r'class="num c-self">([\d.]+)<', row).group(1))
        everyone = float(re.search(r'class="num c-all_raters">([\d.]+)<', row).group(1))
        size, direction = re.search(
            r'<td class="num gap[^"]*">([\d.]+) (more|less) often', row
        ).groups()
        assert float(size) * (1 if direction == "more" else -1) == round(everyone - own, 1)


def test_one_column_when_other_raters_holds_everyone():
    # Two peers, a direct report and an other: all pooled; "Other raters" would be "All raters".
    ratings = np.array([[4, 3], [3, 4], [4, 4], [5, 3], [2, _]], dtype=float)
    groups = [SELF, PEER, PEER, DIRECT_REPORT, OTHER]
    comments = [(0, PEER, "Listens well.")]
    result = analyse(
        ratings,
        groups,
        np.zeros(2, dtype=int),
        np.ones(2, dtype=bool),
        n_values=1,
        comments=comments,
    )

    assert [c.key for c in result.columns] == [SELF, ALL_RATERS]
    assert all(OTHER_RATERS not in s.cells for s in result.statements)
    assert OTHER_RATERS not in result.values[0].scores
    assert [c.label for c in result.comments] == [None]
    page = report_html(document(result, 2, 1))
    # No column head, legend entry or chart lane for it (the how-to-read still explains
    # what pooling is).
    assert "c-other_raters" not in page
    assert "○ Other raters" not in visible_text(page)
    assert all("Other raters" not in chart for chart in re.findall(r"<svg\b.*?</svg>", page, re.S))
    assert "Not shown on its own, to protect anonymity: included in All raters" in page

    # With a group of its own beside the pool, both columns show.
    ratings = np.vstack([ratings[:1], [[4, 4]] * 3, ratings[3:], [[3, 3]]])
    groups = [SELF, PEER, PEER, PEER, DIRECT_REPORT, OTHER, OTHER]
    result = analyse(ratings, groups, np.zeros(2, dtype=int), np.ones(2, dtype=bool), n_values=1)
    assert [c.key for c in result.columns] == [SELF, PEER, OTHER_RATERS, ALL_RATERS]


def test_the_report_has_one_name_for_not_seen():
    # Self and a peer said "Not seen" to s1; only self rated s2; every rater rated s0.
    ratings = np.array([[4, _, 3], [4, _, _], [3, 4, _], [5, 4, _], [4, 5, _]], dtype=float)
    result = analyse(
        ratings, [SELF] + [PEER] * 4, np.zeros(3, dtype=int), np.ones(3, dtype=bool), n_values=1
    )
    text = visible_text(report_html(document(result, 3, 1)))

    assert "No rating" not in text
    mentions = re.findall(r"not seen[^,.;)]{0,14}", text, re.I)
    assert mentions
    assert all(m.lower().startswith("not seen / can’t say") for m in mentions), mentions
