"""Rule 9 on whole arrays: a cycle's responses by segment, their totals, and what is hidden.

Cells are (segments, columns) with the whole organisation ("All") as the last segment;
organisation.py turns them into the summary an administrator reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from feedback360.groups import SELF
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays
from feedback360.reports.engine.values import value_membership, value_sums

# Why a cell is blank, as a code per cell so hiding can be worked out on whole arrays.
SHOWN, NO_RATINGS, FEW_RESPONSES, FEW_SUBJECTS, SUBTRACTION = range(5)

REASONS = (
    None,
    "No ratings",
    "Fewer than {k} responses",
    "Fewer than {k} subjects",
    "Hidden so that fewer than {k} subjects or responses cannot be worked out from the total",
)


@dataclass(frozen=True)
class Side:
    """One side (others or self) of a cycle, its rows sorted by segment, then subject."""

    ratings: np.ndarray  # per row and statement: 1..scale_points, 0 for "Not seen"
    rated: np.ndarray  # ratings > 0
    segment: np.ndarray  # per row, its subject's segment
    first: np.ndarray  # the first row of each subject
    blocks: list[tuple[slice, slice]]  # per segment, then ALL: its rows and its subjects
    headcount: np.ndarray  # per segment, then ALL: subjects taking part on either side
    k: int


def sides(
    arrays: CycleArrays, segment_of_subject: Sequence[str], k: int, all_name: str
) -> tuple[list[str], tuple[Side, Side]]:
    """The segment names (sorted, then ALL) and the two sides, others and self, of a cycle."""
    names = [str(name) for name in segment_of_subject]
    ratings = _whole_ratings(arrays.ratings, arrays.scale_points)
    subject = np.asarray(arrays.subject, dtype=np.int64)

    # Segments are data: only those with a subject who has any response appear.
    labels, code = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    has_responses = np.zeros(len(names), dtype=bool)
    has_responses[subject] = True
    people = np.bincount(code[has_responses], minlength=len(labels))
    segment = (np.cumsum(people > 0) - 1)[code]
    segments = [*labels[people > 0].tolist(), all_name]
    headcount = np.append(people[people > 0], people.sum())
    # Rows sorted by their subject's place among subjects sorted by segment put each
    # subject's rows, and each segment's, in one block.
    place = np.empty(len(names), dtype=np.int64)
    place[np.argsort(segment, kind="stable")] = np.arange(len(names))
    is_self = np.asarray(arrays.group) == GROUP_CODE[SELF]
    others, own = (
        _side(np.take(ratings, rows, axis=0), subject[rows], segment, headcount, k)
        for rows in (
            rows[np.argsort(place[subject[rows]])]
            for rows in (np.flatnonzero(~is_self), np.flatnonzero(is_self))
        )
    )
    return segments, (others, own)


def _side(
    ratings: np.ndarray, subject: np.ndarray, segment: np.ndarray, headcount: np.ndarray, k: int
) -> Side:
    """Index one side's rows, already sorted by segment and subject, by subject and segment."""
    rated = ratings > 0
    first = np.flatnonzero(np.diff(subject, prepend=-1))
    segments = np.arange(len(headcount))
    row_bounds = np.searchsorted(segment[subject], segments)
    subject_bounds = np.searchsorted(segment[subject[first]], segments)
    blocks = [
        (slice(*row_bounds[g : g + 2]), slice(*subject_bounds[g : g + 2])) for g in segments[:-1]
    ]
    blocks.append((slice(None), slice(None)))  # ALL
    return Side(ratings, rated, segment[subject], first, blocks, headcount, k)


def segment_totals(
    values: np.ndarray | None, present: np.ndarray, side: Side
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per segment (ALL last) and column: subjects, responses and the sum of values.

    values and present hold one row per response: a rating (0 where absent), and whether
    it is there (not "Not seen"); with values None, only who is present is counted.
    """
    took_part = np.zeros((len(side.first), present.shape[1]), dtype=bool)
    if len(side.first):
        took_part = np.logical_or.reduceat(present, side.first, axis=0)
    shape = (len(side.blocks), present.shape[1])
    sums, responses, subjects = (np.zeros(shape, np.int64) for _ in range(3))
    for g, (rows, people) in enumerate(side.blocks[:-1]):
        if values is not None:
            sums[g] = values[rows].sum(axis=0, dtype=np.int64)  # 0 wherever not present
        responses[g] = present[rows].sum(axis=0)
        subjects[g] = took_part[people].sum(axis=0)
    for total in (sums, responses, subjects):
        total[-1] = total[:-1].sum(axis=0)
    return subjects, responses, sums


def value_table(
    side: Side, shown: np.ndarray, arrays: CycleArrays
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per segment (ALL last) and value: subjects, responses, mean and first hidden statement.

    shown (segments, statements) says which statement cells the summary shows. A value's
    mean holds every rating in its shown cells, each weighing the same (engine.values), NaN
    where none is shown. It rests on the responses with a rating in those cells; where
    none is shown, the counts are of everyone who rated the value, and the last array
    gives the first of its statements with ratings there (−1 if none), to say why.
    """
    value_of = np.asarray(arrays.statement_value, dtype=np.int64)
    positive = np.asarray(arrays.statement_positive, dtype=bool)
    n_values = arrays.n_values
    _, n, sums = segment_totals(side.ratings, side.rated, side)
    membership = value_membership(value_of, n_values)
    held, scored = value_sums(n, sums, shown, membership, positive, arrays.scale_points)
    mean = np.full(held.shape, np.nan)
    np.divide(scored, held, out=mean, where=held > 0)

    # Who has a rating in which cells, with each value's statements side by side.
    order = np.argsort(value_of, kind="stable")
    has_statements = np.bincount(value_of, minlength=n_values) > 0
    starts = np.searchsorted(value_of[order], np.flatnonzero(has_statements))
    rated_by_value, shown_by_value = side.rated[:, order], shown[:, order]

    def rated(mask: np.ndarray) -> np.ndarray:
        """(rows, values): whether each response has a rating where mask is set."""
        found = np.zeros((len(rated_by_value), n_values), dtype=bool)
        if len(rated_by_value) and len(starts):
            both = rated_by_value & mask
            found[:, has_statements] = np.logical_or.reduceat(both, starts, axis=1)
        return found

    by_own = segment_totals(None, rated(shown_by_value[side.segment]), side)
    by_all = segment_totals(None, rated(shown_by_value[-1]), side)
    anyone = segment_totals(None, rated(np.True_), side)
    subjects, responses = (
        np.where(held > 0, np.vstack([own[:-1], everyone[-1:]]), any_)
        for own, everyone, any_ in zip(by_own[:2], by_all[:2], anyone[:2], strict=True)
    )
    first_hidden = np.full(held.shape, -1)
    for g, v in zip(*np.nonzero(held == 0), strict=True):
        hidden = np.flatnonzero((value_of == v) & (n[g] > 0))
        first_hidden[g, v] = hidden[0] if len(hidden) else -1
    return subjects, responses, mean, first_hidden


def hide_segments(
    subjects: np.ndarray, responses: np.ndarray, headcount: np.ndarray, k: int
) -> np.ndarray:
    """Reason codes per segment (ALL last) and column: too few, then rule 4's subtraction."""
    few_subjects = subjects < k
    # Below k in a segment of fewer than k people, it is the subjects that are too few;
    # in a larger segment, the responses.
    small = (headcount < k)[:, None]
    reason = np.select(
        [responses == 0, few_subjects & small, responses < k, few_subjects],
        [NO_RATINGS, FEW_SUBJECTS, FEW_RESPONSES, FEW_SUBJECTS],
        SHOWN,
    )
    # Smallest by subjects, then responses, as one sortable number; ties go to the first.
    size = subjects[:-1] * (int(responses.max(initial=0)) + 1) + responses[:-1]
    columns = np.arange(reason.shape[1])
    # Each round hides one segment wherever needed; with none shown, what ALL holds beyond
    # them is ALL itself, at least k, so there are at most as many rounds as segments.
    for _ in range(len(reason)):
        shown = reason[:-1] == SHOWN
        beyond_subjects = subjects[-1] - np.where(shown, subjects[:-1], 0).sum(axis=0)
        beyond_responses = responses[-1] - np.where(shown, responses[:-1], 0).sum(axis=0)
        revealing = ((beyond_subjects > 0) & (beyond_subjects < k)) | (
            (beyond_responses > 0) & (beyond_responses < k)
        )
        bad = (reason[-1] == SHOWN) & revealing
        if not bad.any():
            break
        smallest = np.where(shown, size, np.iinfo(np.int64).max).argmin(axis=0)
        reason[smallest[bad], columns[bad]] = SUBTRACTION
    return reason


def _whole_ratings(ratings: np.ndarray, scale_points: int) -> np.ndarray:
    """Ratings as small whole numbers, 0 for "Not seen": an eighth of the memory to move."""
    ratings = np.asarray(ratings, dtype=float)
    rated = ~np.isnan(ratings)
    whole = np.zeros(ratings.shape, dtype=np.min_scalar_type(scale_points))
    with np.errstate(invalid="ignore", over="ignore"):  # out of range is refused just below
        np.copyto(whole, ratings, where=rated, casting="unsafe")
    # Each "Not seen" differs from its 0, so anything else that differs is not a whole
    # number in range; a rating of 0 would pass for "Not seen" but is counted out here.
    rated_count = np.count_nonzero(rated)
    if (
        np.count_nonzero(whole != ratings) != ratings.size - rated_count
        or np.count_nonzero(whole) != rated_count
        or whole.max(initial=0) > scale_points
    ):
        raise ValueError(f"Ratings must be whole numbers from 1 to {scale_points}.")
    return whole
