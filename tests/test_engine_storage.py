"""Responses stored under their final label at the close give exactly the same reports."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

from feedback360.groups import (
    ALL_RATERS,
    DIRECT_REPORT,
    GROUPS,
    LINE_MANAGER,
    OTHER,
    OTHER_RATERS,
    PEER,
    POOLED,
    SELF,
)
from feedback360.reports.engine.analysis import analyse, analyse_cycle
from feedback360.reports.engine.inputs import DROPPED, GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.storage import storage_labels
from tests.test_engine_properties import cycles as random_cycles

_ = math.nan  # "Not seen", as in the known cycle


def labels(counts: list[int], k: int = 3, identifiable: bool = False) -> list[str]:
    codes = storage_labels(np.array([counts]), k, identifiable)[0].tolist()
    names = {code: name for name, code in GROUP_CODE.items()}
    return [names.get(code, "dropped") for code in codes]


@pytest.mark.parametrize(
    ("counts", "identifiable", "expected"),
    [
        # Three peers and a lone direct report: the direct report alone would be a pool of
        # one, so the peers join it and both are stored as pooled.
        ([1, 0, 3, 1, 0], False, [SELF, "dropped", POOLED, POOLED, "dropped"]),
        # Four peers, two direct reports and one other: peers keep their label.
        ([1, 0, 4, 2, 1], False, [SELF, "dropped", PEER, POOLED, POOLED]),
        # Two raters in all: rule 3 is not met, nothing but self is kept.
        ([1, 1, 1, 0, 0], True, [SELF, "dropped", "dropped", "dropped", "dropped"]),
        # An identifiable manager beside two peers: the manager is kept; all raters cannot
        # be shown (it would be the two peers by subtraction), so the peers are not stored.
        ([0, 1, 2, 0, 0], True, [SELF, LINE_MANAGER, "dropped", "dropped", "dropped"]),
        # The same manager not identifiable is pooled with them.
        ([0, 1, 2, 0, 0], False, [SELF, POOLED, POOLED, "dropped", "dropped"]),
    ],
)
def test_each_group_is_stored_under_the_label_it_is_shown_under(counts, identifiable, expected):
    assert labels(counts, identifiable=identifiable) == expected


def test_storage_labels_refuse_what_cannot_be_counts():
    with pytest.raises(ValueError, match="5 groups"):
        storage_labels(np.zeros((2, 4), dtype=int), 3, False)
    with pytest.raises(ValueError, match="none below 0"):
        storage_labels(np.array([[1, 0, -1, 0, 0]]), 3, False)
    with pytest.raises(ValueError, match="at least 2"):
        storage_labels(np.zeros((1, 5), dtype=int), 1, False)


def stored(
    ratings: list[list[float]], groups: list[str], counts: list[int], **fields
) -> CycleArrays:
    return CycleArrays(
        ratings=np.array(ratings, dtype=float).reshape(len(groups), 2),
        subject=np.zeros(len(groups), dtype=int),
        group=np.array([GROUP_CODE[g] for g in groups], dtype=np.int8),
        statement_value=np.zeros(2, dtype=int),
        statement_positive=np.array([True, False]),
        n_subjects=1,
        n_values=1,
        group_counts=np.array([counts]),
        **fields,
    )


def test_pooled_rows_fill_other_raters_and_the_counts_come_from_the_close():
    # Three peers shown on their own; two direct reports and a lone other, stored as three
    # pooled rows.
    arrays = stored(
        [[4, 2], [5, 1], [3, _], [2, 2], [4, 3], [3, _]],
        [PEER] * 3 + [POOLED] * 3,
        [0, 0, 3, 2, 1],
    )
    result = analyse_cycle(arrays, CycleSettings()).report(0, [(0, POOLED, "Kind.")])

    assert [(c.key, c.responses) for c in result.columns] == [
        (PEER, 3),
        (OTHER_RATERS, 3),
        (ALL_RATERS, 6),
    ]
    assert [(g.key, g.responses, g.shown) for g in result.groups] == [
        (PEER, 3, True),
        (DIRECT_REPORT, 2, False),
        (OTHER, 1, False),
    ]
    assert result.statements[0].cells[OTHER_RATERS].mean == 3.0
    assert result.statements[1].cells[ALL_RATERS].not_seen == 2
    assert [(c.text, c.label) for c in result.comments] == [("Kind.", "Other raters")]


def test_when_every_rater_is_pooled_only_all_raters_shows():
    # Three peers and a lone direct report, stored as four pooled rows: "Other raters"
    # would hold exactly what "All raters" holds, so it is not shown, nor named on comments.
    arrays = stored([[4, 2], [5, 1], [3, _], [2, 2]], [POOLED] * 4, [0, 0, 3, 1, 0])
    result = analyse_cycle(arrays, CycleSettings()).report(0, [(0, POOLED, "Kind.")])

    assert [(c.key, c.responses) for c in result.columns] == [(ALL_RATERS, 4)]
    assert [(g.key, g.responses, g.shown) for g in result.groups] == [
        (PEER, 3, False),
        (DIRECT_REPORT, 1, False),
    ]
    assert list(result.statements[0].cells) == [ALL_RATERS]
    assert result.statements[0].cells[ALL_RATERS].mean == 3.5
    assert [(c.text, c.label) for c in result.comments] == [("Kind.", None)]


@pytest.mark.parametrize(
    ("groups", "counts"),
    [
        # A lone direct report may not be stored under its own label.
        ([PEER, PEER, PEER, DIRECT_REPORT], [0, 0, 3, 1, 0]),
        # Nor may a pooled group keep its own.
        ([POOLED, POOLED, POOLED, PEER], [0, 0, 3, 1, 0]),
        # A shown group must keep every response counted for it.
        ([PEER, PEER, PEER], [0, 0, 4, 0, 0]),
        # Nothing is stored below rule 3.
        ([PEER, PEER], [0, 0, 2, 0, 0]),
    ],
)
def test_rows_that_the_close_would_not_store_are_refused(groups, counts):
    arrays = stored([[4, 2]] * len(groups), groups, counts)
    with pytest.raises(ValueError, match="do not match group_counts"):
        analyse_cycle(arrays, CycleSettings())


def test_a_pooled_row_without_the_counts_of_the_close_is_refused():
    with pytest.raises(ValueError, match="needs group_counts"):
        analyse(np.full((3, 2), 4.0), [POOLED] * 3, np.zeros(2, int), np.ones(2, bool), n_values=1)


def test_group_counts_must_be_one_row_per_subject_of_whole_numbers():
    arrays = stored([[4, 2]] * 3, [PEER] * 3, [0, 0, 3, 0, 0])
    for counts, message in (([[0, 0, 3, 0]], "5 groups"), ([[0, 0, 3.5, 0, 0]], "whole")):
        with pytest.raises(ValueError, match=message):
            analyse_cycle(
                CycleArrays(**{**vars(arrays), "group_counts": np.array(counts)}),
                CycleSettings(),
            )


@settings(max_examples=150, deadline=None)
@given(random_cycles())
def test_the_stored_rows_give_exactly_the_reports_of_the_original_rows(cycle):
    arrays, cycle_settings = cycle["arrays"], cycle["settings"]
    comments = [
        (row % arrays.n_values, GROUPS[code], f"Comment {row}")
        for row, code in enumerate(arrays.group.tolist())
    ]
    counts = np.zeros((arrays.n_subjects, 5), dtype=np.int64)
    np.add.at(counts, (arrays.subject, arrays.group), 1)
    label = storage_labels(counts, cycle_settings.k, cycle_settings.manager_identifiable)
    row_label = label[arrays.subject, arrays.group]
    kept = row_label != DROPPED
    after = CycleArrays(
        **{
            **vars(arrays),
            "ratings": arrays.ratings[kept],
            "subject": arrays.subject[kept],
            "group": row_label[kept],
            "group_counts": counts,
        }
    )
    names = {code: name for name, code in GROUP_CODE.items()}
    # Comments go with their response: relabelled, or not stored with it.
    stored_comments = [
        (v, names[int(row_label[row])], text)
        for row, (v, _, text) in enumerate(comments)
        if kept[row]
    ]
    before_analysis = analyse_cycle(arrays, cycle_settings)
    after_analysis = analyse_cycle(after, cycle_settings)
    for s in range(arrays.n_subjects):
        mine = [c for row, c in enumerate(comments) if arrays.subject[row] == s]
        theirs = [
            c
            for row, c in zip(np.flatnonzero(kept), stored_comments, strict=True)
            if arrays.subject[row] == s
        ]
        assert after_analysis.report(s, theirs, seed=s) == before_analysis.report(s, mine, seed=s)
    # No group smaller than k is stored under its own label, but self and a shown manager.
    for s, g in zip(*np.nonzero((label == np.arange(5)) & (counts > 0)), strict=True):
        assert (
            g == GROUP_CODE[SELF]
            or counts[s, g] >= cycle_settings.k
            or (g == GROUP_CODE[LINE_MANAGER] and cycle_settings.manager_identifiable)
        )
