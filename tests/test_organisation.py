"""Organisation summaries show scores by segment only where no one can be singled out."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback360.groups import PEER, POOLED, SELF
from feedback360.reports.engine.crossed_groupings import linked_summaries
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.organisation import (
    ALL,
    OrganisationSummary,
    SummaryCell,
    organisation_summary,
    summary_csv,
)

NOT_SEEN = math.nan

# A small framework: Integrity has a "We will" and a "We will not"; Respect two "We will"s.
VALUE_TITLES = ["Integrity", "Respect"]
STATEMENT_TEXTS = ["Be honest", "Blame others", "Listen", "Treat people fairly"]
STATEMENT_VALUE = [0, 0, 1, 1]
STATEMENT_POSITIVE = [True, False, True, True]
HONEST, BLAME, LISTEN, FAIR = range(4)
INTEGRITY, RESPECT = range(2)

TOO_FEW_SUBJECTS = "Fewer than 3 subjects"
TOO_FEW_RESPONSES = "Fewer than 3 responses"
SUBTRACTION = (
    "Hidden so that fewer than 3 subjects or responses cannot be worked out from the total"
)


@dataclass
class Organisation:
    """People in segments, each with an optional self-assessment and raters' forms."""

    segment_of_subject: list[str] = field(default_factory=list)
    forms: list[tuple[int, str, list[float]]] = field(default_factory=list)  # subject, group
    statement_value: list[int] = field(default_factory=lambda: STATEMENT_VALUE)
    statement_positive: list[bool] = field(default_factory=lambda: STATEMENT_POSITIVE)

    def person(
        self, segment: str, raters: list[list[float]], self_form: list[float] | None = None
    ) -> None:
        subject = len(self.segment_of_subject)
        self.segment_of_subject.append(segment)
        if self_form is not None:
            self.forms.append((subject, SELF, self_form))
        self.forms += [(subject, PEER, form) for form in raters]

    def people(
        self,
        count: int,
        segment: str,
        raters: list[list[float]],
        self_form: list[float] | None = None,
    ) -> None:
        for _ in range(count):
            self.person(segment, raters, self_form)

    def arrays(self, seed: int = 0) -> CycleArrays:
        # Rows come in any order; shuffling them proves the summary does not care.
        order = np.random.default_rng(seed).permutation(len(self.forms))
        forms = [self.forms[i] for i in order]
        return CycleArrays(
            ratings=np.array([f for _, _, f in forms], dtype=float).reshape(
                len(forms), len(self.statement_value)
            ),
            subject=np.array([s for s, _, _ in forms], dtype=int),
            group=np.array([GROUP_CODE[g] for _, g, _ in forms], dtype=np.int8),
            statement_value=np.array(self.statement_value),
            statement_positive=np.array(self.statement_positive),
            n_subjects=len(self.segment_of_subject),
            n_values=max(self.statement_value) + 1,
        )

    def summary(self, k: int = 3) -> OrganisationSummary:
        return organisation_summary(self.arrays(), self.segment_of_subject, CycleSettings(k=k))


def shown(cell: SummaryCell) -> bool:
    return cell.mean is not None


def test_a_unit_of_two_is_hidden_and_the_next_smallest_goes_too_so_it_cannot_be_worked_out():
    org = Organisation()
    # Operations: four people, two raters each; one did not see Cat blame others.
    #   Be honest:    5 4 | 5 4 | 5 4 | 5 4   = 36 / 8 = 4.5
    #   Blame others: 1 2 | 1 3 | 2 - | 3 2   = 14 / 7 = 2.0
    #   Integrity, every rating of both once, Blame others reversed (6 − x):
    #     (36 + 6 × 7 − 14) / (8 + 7) = 64 / 15;  Respect = 4.0
    # Self "Be honest": 5, 4, 4, 3 = 16 / 4 = 4.0
    org.person("Operations", [[5, 1, 4, 4], [4, 2, 4, 4]], self_form=[5, 1, 4, 4])
    org.person("Operations", [[5, 1, 4, 4], [4, 3, 4, 4]], self_form=[4, 1, 4, 4])
    org.person("Operations", [[5, 2, 4, 4], [4, NOT_SEEN, 4, 4]], self_form=[4, 1, 4, 4])
    org.person("Operations", [[5, 3, 4, 4], [4, 2, 4, 4]], self_form=[3, 1, 4, 4])
    # Legal: two people, two raters each: Be honest 3 3 3 3 = 12, Blame others 2 2 2 2 = 8.
    org.people(2, "Legal", [[3, 2, 4, 4], [3, 2, 4, 4]], self_form=[4, 1, 4, 4])
    # Finance: three people, one rater each: Be honest 4 4 4 = 12, Blame others 2 2 2 = 6.
    org.people(3, "Finance", [[4, 2, 4, 4]], self_form=[4, 1, 4, 4])

    summary = org.summary(k=3)

    assert summary.segments == ["Finance", "Legal", "Operations", ALL]
    honest = summary.statements[HONEST]
    assert honest["Operations"] == SummaryCell(subjects=4, responses=8, mean=4.5)
    assert honest["Legal"] == SummaryCell(2, 4, None, TOO_FEW_SUBJECTS)
    # Finance has 3 people and 3 ratings, but All − Operations would then be Legal's 2.
    assert honest["Finance"] == SummaryCell(3, 3, None, SUBTRACTION)
    # All: (36 + 12 + 12) / (8 + 4 + 3) = 60 / 15 = 4.0, from 9 people.
    assert honest[ALL] == SummaryCell(9, 15, 4.0)
    # Blame others, All: (14 + 8 + 6) / (7 + 4 + 3) = 28 / 14 = 2.0.
    assert summary.statements[BLAME]["Operations"] == SummaryCell(4, 7, 2.0)
    assert summary.statements[BLAME][ALL] == SummaryCell(9, 14, 2.0)
    assert summary.values[INTEGRITY]["Operations"] == SummaryCell(4, 8, 64 / 15)
    # All's Integrity: Be honest 60 over 15, Blame others reversed 6 × 14 − 28 = 56 over 14,
    # so 116 / 29 = 4.0.
    assert summary.values[INTEGRITY][ALL] == SummaryCell(9, 15, 4.0)
    assert summary.values[RESPECT]["Operations"].mean == 4.0
    assert summary.values[INTEGRITY]["Legal"].hidden_reason == TOO_FEW_SUBJECTS
    assert summary.values[INTEGRITY]["Finance"].hidden_reason == SUBTRACTION
    # Self, Be honest: Operations 16 / 4 = 4.0; All (16 + 4 + 4 + 4 + 4 + 4) / 9 = 4.0.
    assert summary.statements_self[HONEST]["Operations"] == SummaryCell(4, 4, 4.0)
    assert summary.statements_self[HONEST]["Legal"].hidden_reason == TOO_FEW_SUBJECTS
    assert summary.statements_self[HONEST][ALL] == SummaryCell(9, 9, 4.0)
    assert "Nothing is shown for Legal." in summary.notes


def test_a_statement_few_raters_could_rate_is_hidden_for_that_unit_only():
    org = Organisation()
    # Operations and Finance: three people each, but only two of their raters could say
    # whether they listen. Legal's three people were all rated on it.
    org.person("Operations", [[4, 2, 5, 3]])
    org.person("Operations", [[4, 2, 5, 3]])
    org.person("Operations", [[4, 2, NOT_SEEN, 3]])
    org.person("Finance", [[4, 2, 5, 3]])
    org.person("Finance", [[4, 2, NOT_SEEN, 3]])
    org.person("Finance", [[4, 2, 5, 3]])
    org.people(3, "Legal", [[4, 2, 2, 3]])

    summary = org.summary(k=3)

    listen = summary.statements[LISTEN]
    assert listen["Operations"] == SummaryCell(2, 2, None, TOO_FEW_RESPONSES)
    assert listen["Finance"] == SummaryCell(2, 2, None, TOO_FEW_RESPONSES)
    # The four hidden ratings together reach k, so Legal's own column can stay.
    assert listen["Legal"] == SummaryCell(3, 3, 2.0)
    assert listen[ALL] == SummaryCell(7, 7, (5 * 4 + 2 * 3) / 7)
    assert summary.statements[HONEST]["Operations"] == SummaryCell(3, 3, 4.0)
    # A value score holds only the ratings in the unit's shown cells: Operations' Respect
    # leaves out its hidden "Listen" ratings and is "Treat people fairly" alone, 3.0.
    assert summary.values[RESPECT]["Operations"] == SummaryCell(3, 3, 3.0)
    assert summary.values[RESPECT]["Legal"] == SummaryCell(3, 3, (2 + 3) / 2)


def test_units_of_five_four_and_two_leave_only_the_five_and_everyone():
    org = Organisation()
    org.people(5, "North", [[5, 1, 5, 5]] * 3, self_form=[4, 2, 4, 4])
    org.people(4, "South", [[4, 2, 4, 4]] * 3, self_form=[4, 2, 4, 4])
    org.people(2, "East", [[3, 3, 3, 3]] * 3, self_form=[4, 2, 4, 4])

    summary = org.summary(k=3)

    rows = [*summary.values, *summary.statements, *summary.values_self, *summary.statements_self]
    for row in rows:
        assert shown(row["North"])
        assert row["East"].hidden_reason == TOO_FEW_SUBJECTS
        # All − North − South would be East's 2 people: South goes as well.
        assert row["South"].hidden_reason == SUBTRACTION
        assert shown(row[ALL])
        assert row[ALL].subjects - row["North"].subjects == 6


def test_self_assessments_follow_the_same_rules_as_raters():
    org = Organisation()
    rated = [[4, 2, 4, 4]] * 3
    org.people(5, "North", rated, self_form=[5, 1, 5, 5])
    # South: four people with raters, but only two assessed themselves.
    org.people(2, "South", rated, self_form=[3, 3, 3, 3])
    org.people(2, "South", rated)

    summary = org.summary(k=3)

    # Raters: both units are shown.
    assert shown(summary.statements[HONEST]["North"])
    assert shown(summary.statements[HONEST]["South"])
    # Self: South rests on two people, and All − North would give them away.
    assert summary.statements_self[HONEST]["South"] == SummaryCell(2, 2, None, TOO_FEW_RESPONSES)
    assert summary.statements_self[HONEST]["North"].hidden_reason == SUBTRACTION
    assert summary.statements_self[HONEST][ALL] == SummaryCell(7, 7, (5 * 5 + 2 * 3) / 7)
    assert summary.values_self[INTEGRITY]["North"].hidden_reason == SUBTRACTION
    # Self Integrity for all: North's five score (5 + (6 − 1)) / 2 = 5, South's two 3.
    assert summary.values_self[INTEGRITY][ALL].mean == pytest.approx((5 * 5 + 2 * 3) / 7)


def test_police_officers_and_police_staff_are_compared_the_same_way():
    org = Organisation()
    # Officers: rated 4 on honesty and 1 on blaming others; Integrity (4 + (6 − 1)) / 2 = 4.5.
    org.people(3, "Police officer", [[4, 1, 4, 4], [4, 1, 4, 4]])
    # Staff: rated 2 and 3; Integrity (2 + (6 − 3)) / 2 = 2.5.
    org.people(3, "Police staff", [[2, 3, 4, 4], [2, 3, 4, 4]])

    summary = org.summary(k=3)

    assert summary.segments == ["Police officer", "Police staff", ALL]
    assert summary.values[INTEGRITY]["Police officer"] == SummaryCell(3, 6, 4.5)
    assert summary.values[INTEGRITY]["Police staff"] == SummaryCell(3, 6, 2.5)
    # Everyone: Be honest (24 + 12) / 12 = 3.0, Blame others 24 / 12 = 2.0 → (3 + 4) / 2.
    assert summary.values[INTEGRITY][ALL] == SummaryCell(6, 12, 3.5)
    assert summary.statements[BLAME]["Police staff"] == SummaryCell(3, 6, 3.0)
    # Nobody assessed themselves, so every self cell says so.
    assert summary.statements_self[HONEST][ALL] == SummaryCell(0, 0, None, "No ratings")


def test_a_unit_whose_people_had_no_feedback_does_not_appear():
    org = Organisation()
    org.people(3, "Finance", [[4, 2, 4, 4]] * 3)
    org.people(2, "Archive", [])

    assert org.summary().segments == ["Finance", ALL]


def test_bad_input_is_refused_with_the_reason():
    org = Organisation()
    org.people(3, "Finance", [[4, 2, 4, 4]] * 3)
    with pytest.raises(ValueError, match="at least 2"):
        org.summary(k=1)
    with pytest.raises(ValueError, match="cannot have that name"):
        organisation_summary(org.arrays(), ["All"] * 3, CycleSettings())
    with pytest.raises(ValueError, match="a segment for each of 3"):
        organisation_summary(org.arrays(), ["Finance"], CycleSettings())
    for bad in (6, 0, 2.5, -1):
        odd = Organisation()
        odd.people(3, "Finance", [[4, bad, 4, 4]] * 3)
        with pytest.raises(ValueError, match="whole numbers from 1 to 5"):
            odd.summary()


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_export_reads_as_a_table_with_reasons_where_cells_are_hidden():
    org = Organisation()
    org.people(5, "North", [[5, 1, 5, 5]] * 3, self_form=[4, 2, 4, 4])
    org.people(2, "East", [[3, 3, 3, 3]] * 3)
    texts = ["Be honest", 'Blame others, "quietly"\nor loudly', "Listen", "Treat people fairly"]

    table = read_csv(summary_csv(org.summary(k=3), VALUE_TITLES, texts))

    columns = [
        f"{unit}: {side}" for unit in ("East", "North", "All") for side in ("others", "self")
    ]
    assert table[0] == ["Value", "Statement", "Kind", *columns]
    assert [row[:3] for row in table[1:]] == [
        ["Integrity", "", "Value score"],
        ["Respect", "", "Value score"],
        ["Integrity", "Be honest", "We will"],
        ["Integrity", 'Blame others, "quietly"\nor loudly', "We will not (lower is better)"],
        ["Respect", "Listen", "We will"],
        ["Respect", "Treat people fairly", "We will"],
    ]
    honest = table[3]
    assert honest[3] == f"hidden: {TOO_FEW_SUBJECTS}"
    # North's raters go so that East's cannot be worked out; only North assessed themselves.
    assert honest[5:7] == [f"hidden: {SUBTRACTION}", "4.00"]
    # All, others: (15 × 5 + 6 × 3) / 21 = 93 / 21 = 4.43; self: 4.00, North's five.
    assert honest[7:9] == ["4.43", "4.00"]


def test_the_csv_export_cannot_smuggle_a_formula_into_a_spreadsheet():
    link = '=HYPERLINK("http://evil.example","Click")'
    org = Organisation()
    org.people(3, link, [[4, 2, 4, 4]] * 3)
    org.people(3, "@Finance", [[4, 2, 4, 4]] * 3)
    texts = ["-2+3 honest", "+blame", "\tlisten", "\rfair"]

    table = read_csv(summary_csv(org.summary(k=3), ["=1+1", "Respect"], texts))

    assert f"'{link}: others" in table[0]
    assert "'@Finance: self" in table[0]
    assert table[1][0] == "'=1+1"
    assert [row[1] for row in table[3:]] == ["'-2+3 honest", "'+blame", "'\tlisten", "'\rfair"]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in table for cell in r)


# Random organisations, checked against a plain-Python reference computation.


@st.composite
def organisations(draw: st.DrawFn) -> tuple[Organisation, int]:
    k = draw(st.integers(2, 5))
    unit_sizes = draw(st.lists(st.integers(0, 8), min_size=1, max_size=6))
    not_seen = draw(st.sampled_from([0.0, 0.2, 0.5, 0.9]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def form() -> list[float]:
        ratings = rng.integers(1, 6, size=5).astype(float)
        ratings[rng.random(5) < not_seen] = NOT_SEEN
        return ratings.tolist()

    # Respect gains a "We will not", so that rating one of its three statements is too few.
    org = Organisation(
        statement_value=[0, 0, 1, 1, 1], statement_positive=[True, False, True, True, False]
    )
    for unit, size in enumerate(unit_sizes):
        for _ in range(size):
            raters = [form() for _ in range(draw(st.integers(0, 5)))]
            org.person(f"Unit {unit}", raters, form() if draw(st.booleans()) else None)
    return org, k


def forms_of(org: Organisation, group: str, segment: str) -> list[tuple[int, list[float]]]:
    return [
        (subject, form)
        for subject, g, form in org.forms
        if (g == SELF) == (group == SELF) and segment in (ALL, org.segment_of_subject[subject])
    ]


def reference_statement(org: Organisation, group: str, segment: str, s: int) -> tuple:
    """Subjects, ratings and their mean, from every form that rated the statement."""
    rated = [(subject, form[s]) for subject, form in forms_of(org, group, segment)]
    rated = [(subject, x) for subject, x in rated if not math.isnan(x)]
    mean = sum(x for _, x in rated) / len(rated) if rated else None
    return len({subject for subject, _ in rated}), len(rated), mean


def reference_value(
    org: Organisation, group: str, segment: str, v: int, statements: list[dict]
) -> tuple:
    """Subjects, responses and mean score, from the segment's shown cells of the value.

    Every rating in those cells counts once, "We will not" reversed (6 − x). The counts are
    of the responses with a rating there, or, where no cell is shown, of all that rated
    the value.
    """
    mine = [s for s, value in enumerate(org.statement_value) if value == v]
    shown = [s for s in mine if statements[s][segment].mean is not None]
    ratings, counted = [], []
    for subject, form in forms_of(org, group, segment):
        held = [form[s] if org.statement_positive[s] else 6 - form[s] for s in shown]
        held = [x for x in held if not math.isnan(x)]
        ratings += held
        if held or (not shown and any(not math.isnan(form[s]) for s in mine)):
            counted.append(subject)
    mean = sum(ratings) / len(ratings) if ratings else None
    return len(set(counted)), len(counted), mean


@settings(max_examples=300, deadline=None)
@given(organisations())
def test_no_shown_cell_rests_on_fewer_than_k_and_none_can_be_worked_out(case):
    org, k = case
    summary = org.summary(k=k)
    assert summary.segments == [*sorted({org.segment_of_subject[s] for s, _, _ in org.forms}), ALL]

    for group, statements in ((PEER, summary.statements), (SELF, summary.statements_self)):
        for s, row in enumerate(statements):
            check_row(k, row, partial(reference_statement, org, group, s=s))
    check_values(k, org, summary)


def check_cells(k: int, row: dict[str, SummaryCell], reference: Callable) -> None:
    """Every cell matches the reference, and none shown rests on fewer than k."""
    assert list(row)[-1] == ALL
    for segment, cell in row.items():
        subjects, responses, mean = reference(segment)
        assert (cell.subjects, cell.responses) == (subjects, responses)
        if cell.mean is None:
            assert cell.hidden_reason
        else:
            assert subjects >= k
            assert responses >= k
            assert cell.mean == pytest.approx(mean)


def check_row(k: int, row: dict[str, SummaryCell], reference: Callable) -> None:
    """Every cell matches the reference; none shown rests on fewer than k; no subtraction."""
    check_cells(k, row, reference)
    everyone = row[ALL]  # shown whenever everyone reaches k
    assert shown(everyone) == (everyone.subjects >= k and everyone.responses >= k)
    parts = [cell for segment, cell in row.items() if segment != ALL and shown(cell)]
    if not shown(everyone):
        assert not parts
        return
    beyond_subjects = everyone.subjects - sum(cell.subjects for cell in parts)
    beyond_responses = everyone.responses - sum(cell.responses for cell in parts)
    assert beyond_subjects == 0 or beyond_subjects >= k
    assert beyond_responses == 0 or beyond_responses >= k


def check_values(k: int, org: Organisation, summary: OrganisationSummary) -> None:
    """Each value is built from the statement cells the summary shows, and shown wherever
    one of its statements is."""
    sides = [
        (PEER, summary.values, summary.statements),
        (SELF, summary.values_self, summary.statements_self),
    ]
    for group, values, statements in sides:
        for v, row in enumerate(values):
            check_cells(k, row, partial(reference_value, org, group, v=v, statements=statements))
            mine = [s for s, value in enumerate(org.statement_value) if value == v]
            for segment, cell in row.items():
                assert shown(cell) == any(shown(statements[s][segment]) for s in mine)


@settings(max_examples=100, deadline=None)
@given(organisations(), st.data())
def test_values_hold_no_rating_that_the_other_view_made_a_statement_hide(case, data):
    org, k = case
    kinds = [data.draw(st.sampled_from("XY")) for _ in org.segment_of_subject]
    by_unit, by_kind = linked_summaries(
        org.arrays(), org.segment_of_subject, kinds, CycleSettings(k=k)
    )

    check_values(k, org, by_unit)
    check_values(k, replace(org, segment_of_subject=kinds), by_kind)


def test_responses_stored_as_pooled_count_as_others():
    org = Organisation()
    org.people(3, "Finance", [[4, 2, 4, 4]] * 3, self_form=[5, 1, 5, 5])
    arrays = org.arrays()
    pooled = np.where(arrays.group == GROUP_CODE[PEER], GROUP_CODE[POOLED], arrays.group)
    summary = organisation_summary(
        replace(arrays, group=pooled.astype(np.int8)), org.segment_of_subject, CycleSettings()
    )

    assert summary.statements[HONEST]["Finance"] == SummaryCell(3, 9, 4.0)
    assert summary.statements_self[HONEST]["Finance"] == SummaryCell(3, 3, 5.0)
