"""Organisation-level summaries: value and statement scores by segment, as rule 9 allows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from feedback360.reports.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.results import SELF

ALL = "All"  # the segment holding every subject, always last

# Why a cell is blank, as a code per cell so hiding can be worked out on whole arrays.
_SHOWN, _NO_RATINGS, _FEW_RESPONSES, _FEW_SUBJECTS, _SUBTRACTION = range(5)

_REASONS = (
    None,
    "No ratings",
    "Fewer than {k} responses",
    "Fewer than {k} subjects",
    "Hidden so that fewer than {k} subjects or responses cannot be worked out from the total",
)

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class SummaryCell:
    subjects: int  # subjects contributing
    responses: int  # rater responses (self excluded), or self-assessments on the self rows
    mean: float | None  # None when hidden
    hidden_reason: str | None = None


@dataclass(frozen=True)
class OrganisationSummary:
    """Per value and per statement, {segment: cell}; "others" pools every rater but self."""

    segments: list[str]  # segments with anyone taking part, sorted, then ALL
    values: list[dict[str, SummaryCell]]
    values_self: list[dict[str, SummaryCell]]
    statements: list[dict[str, SummaryCell]]
    statements_self: list[dict[str, SummaryCell]]
    statement_value: list[int]
    statement_positive: list[bool]
    threshold: int
    notes: list[str]


@dataclass(frozen=True)
class _Side:
    """One side (others or self) of a cycle, its rows sorted by segment, then subject."""

    ratings: np.ndarray  # per row and statement: 1..scale_points, 0 for "Not seen"
    rated: np.ndarray  # ratings > 0
    first: np.ndarray  # the first row of each subject
    blocks: list[tuple[slice, slice]]  # per segment, then ALL: its rows and its subjects
    headcount: np.ndarray  # per segment, then ALL: subjects taking part on either side
    k: int


def organisation_summary(
    arrays: CycleArrays, segment_of_subject: Sequence[str], settings: CycleSettings
) -> OrganisationSummary:
    """Score every value and statement by segment, self and others, hiding what rule 9 hides."""
    k = settings.k
    if k < 2:
        raise ValueError(f"The anonymity threshold must be at least 2, not {k}.")
    names = [str(name) for name in segment_of_subject]
    if len(names) != arrays.n_subjects:
        raise ValueError(f"Expected a segment for each of {arrays.n_subjects} subjects.")
    if ALL in names:
        raise ValueError(f'"{ALL}" is the whole organisation; a segment cannot have that name.')
    ratings = _whole_ratings(arrays.ratings, arrays.scale_points)
    subject = np.asarray(arrays.subject, dtype=np.int64)
    positive = np.asarray(arrays.statement_positive, dtype=bool)
    value_of = np.asarray(arrays.statement_value, dtype=np.int64)

    # Segments are data: only those with a subject who has any response appear.
    labels, code = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    has_responses = np.zeros(len(names), dtype=bool)
    has_responses[subject] = True
    people = np.bincount(code[has_responses], minlength=len(labels))
    segment = (np.cumsum(people > 0) - 1)[code]
    segments = [*labels[people > 0].tolist(), ALL]
    headcount = np.append(people[people > 0], people.sum())
    # Rows sorted by their subject's place among subjects sorted by segment put each
    # subject's rows, and each segment's, in one block.
    place = np.empty(len(names), dtype=np.int64)
    place[np.argsort(segment, kind="stable")] = np.arange(len(names))
    reasons = [reason and reason.format(k=k) for reason in _REASONS]

    def cells(table: tuple[np.ndarray, ...]) -> list[dict[str, SummaryCell]]:
        return [
            {
                name: SummaryCell(s, r, None if why else m, reasons[why])
                for name, s, r, m, why in zip(segments, *row, strict=True)
            }
            for row in zip(*(a.T.tolist() for a in table), strict=True)
        ]

    tables = []
    is_self = np.asarray(arrays.group) == GROUP_CODE[SELF]
    for rows in (np.flatnonzero(~is_self), np.flatnonzero(is_self)):
        rows = rows[np.argsort(place[subject[rows]])]
        side = _side(np.take(ratings, rows, axis=0), subject[rows], segment, headcount, k)
        scores, counted = _value_scores(side, value_of, positive, arrays)
        tables += [
            cells(_table(side.ratings, side.rated, side)),
            cells(_table(scores, counted, side)),
        ]
    notes = [
        '"Others" pools every rating that raters other than the subject gave to the'
        ' segment\'s subjects; "Not seen" is left out, so people with more raters weigh more.',
        "As in a personal report, a value score averages, over the responses that rated at"
        " least half of the value's statements, each response's mean rating of them, with"
        f' "We will not" statements reverse-scored ({arrays.scale_points + 1} − x).',
        f"A cell is shown only where it rests on at least {k} subjects and {k} responses,"
        f" and where it leaves nothing smaller than {k} to be worked out from the total.",
    ]
    notes += [
        f"Nothing is shown for {name}."
        for name in segments
        if all(row[name].mean is None for table in tables for row in table)
    ]
    return OrganisationSummary(
        segments=segments,
        values=tables[1],
        values_self=tables[3],
        statements=tables[0],
        statements_self=tables[2],
        statement_value=value_of.tolist(),
        statement_positive=positive.tolist(),
        threshold=k,
        notes=notes,
    )


def _side(
    ratings: np.ndarray, subject: np.ndarray, segment: np.ndarray, headcount: np.ndarray, k: int
) -> _Side:
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
    return _Side(ratings, rated, first, blocks, headcount, k)


def _value_scores(
    side: _Side, value_of: np.ndarray, positive: np.ndarray, arrays: CycleArrays
) -> tuple[np.ndarray, np.ndarray]:
    """Per row and value: the response's score, and whether it counts towards the value.

    As in a personal report (after CCL): a response counts towards a value only where it
    rated at least half of the value's statements, and scores the mean of those ratings,
    "We will not" reversed to scale_points + 1 − x.
    """
    shape = (len(side.ratings), arrays.n_values)
    rated, total = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    for v, polarity in product(range(arrays.n_values), (True, False)):
        columns = np.flatnonzero((value_of == v) & (positive == polarity))
        count = side.rated[:, columns].sum(axis=1)
        sums = side.ratings[:, columns].sum(axis=1, dtype=np.int64)
        rated[:, v] += count
        total[:, v] += sums if polarity else (arrays.scale_points + 1) * count - sums
    counted = (2 * rated >= np.bincount(value_of, minlength=arrays.n_values)) & (rated > 0)
    scores = np.zeros(rated.shape)
    np.divide(total, rated, out=scores, where=counted)
    return scores, counted


def _table(values: np.ndarray, present: np.ndarray, side: _Side) -> tuple[np.ndarray, ...]:
    """Per segment (ALL last) and column: subjects, responses, mean (NaN if hidden), reason.

    values and present hold one row per response: a rating or a value score (0 where
    absent), and whether it is there (not "Not seen"; counted towards the value).
    """
    took_part = np.zeros((len(side.first), present.shape[1]), dtype=bool)
    if len(side.first):
        took_part = np.logical_or.reduceat(present, side.first, axis=0)
    shape = (len(side.blocks), present.shape[1])
    sums, responses, subjects = np.zeros(shape), np.zeros(shape, int), np.zeros(shape, int)
    for g, (rows, people) in enumerate(side.blocks[:-1]):
        sums[g] = values[rows].sum(axis=0)  # 0 wherever not present
        responses[g] = present[rows].sum(axis=0)
        subjects[g] = took_part[people].sum(axis=0)
    for total in (sums, responses, subjects):
        total[-1] = total[:-1].sum(axis=0)
    reason = _hide(subjects, responses, side)
    mean = np.full(shape, np.nan)
    np.divide(sums, responses, out=mean, where=reason == _SHOWN)
    return subjects, responses, mean, reason


def _hide(subjects: np.ndarray, responses: np.ndarray, side: _Side) -> np.ndarray:
    """Reason codes per segment (ALL last) and column: too few, then rule 4's subtraction."""
    k, few_subjects = side.k, subjects < side.k
    # Below k in a segment of fewer than k people, it is the subjects that are too few;
    # in a larger segment, the responses.
    small = (side.headcount < k)[:, None]
    reason = np.select(
        [responses == 0, few_subjects & small, responses < k, few_subjects],
        [_NO_RATINGS, _FEW_SUBJECTS, _FEW_RESPONSES, _FEW_SUBJECTS],
        _SHOWN,
    )
    # Smallest by subjects, then responses, as one sortable number; ties go to the first.
    size = subjects[:-1] * (int(responses.max(initial=0)) + 1) + responses[:-1]
    columns = np.arange(reason.shape[1])
    # Each round hides one segment wherever needed; with none shown, what ALL holds beyond
    # them is ALL itself, at least k, so there are at most as many rounds as segments.
    for _ in range(len(reason)):
        shown = reason[:-1] == _SHOWN
        beyond_subjects = subjects[-1] - np.where(shown, subjects[:-1], 0).sum(axis=0)
        beyond_responses = responses[-1] - np.where(shown, responses[:-1], 0).sum(axis=0)
        revealing = ((beyond_subjects > 0) & (beyond_subjects < k)) | (
            (beyond_responses > 0) & (beyond_responses < k)
        )
        bad = (reason[-1] == _SHOWN) & revealing
        if not bad.any():
            break
        smallest = np.where(shown, size, np.iinfo(np.int64).max).argmin(axis=0)
        reason[smallest[bad], columns[bad]] = _SUBTRACTION
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


def summary_csv(
    summary: OrganisationSummary, value_titles: Sequence[str], statement_texts: Sequence[str]
) -> str:
    """The summary as a table to open in a spreadsheet: values, then statements."""
    if len(value_titles) != len(summary.values):
        raise ValueError(f"Expected {len(summary.values)} value titles.")
    if len(statement_texts) != len(summary.statements):
        raise ValueError(f"Expected {len(summary.statements)} statement texts.")
    segments = summary.segments
    header = ["Value", "Statement", "Kind"]
    header += [f"{name}: {side}" for name in segments for side in ("others", "self")]
    rows = [
        (title, "", "Value score", others, own)
        for title, others, own in zip(
            value_titles, summary.values, summary.values_self, strict=True
        )
    ]
    for s, text in enumerate(statement_texts):
        kind = "We will" if summary.statement_positive[s] else "We will not (lower is better)"
        title = value_titles[summary.statement_value[s]]
        rows.append((title, text, kind, summary.statements[s], summary.statements_self[s]))
    table = [header]
    for *label, others, own in rows:
        table.append([*label, *(_text(row[name]) for name in segments for row in (others, own))])
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerows(
        [["'" + cell if cell.startswith(_FORMULA_START) else cell for cell in row] for row in table]
    )
    return out.getvalue()


def _text(cell: SummaryCell) -> str:
    return f"hidden: {cell.hidden_reason}" if cell.mean is None else f"{cell.mean:.2f}"


def summary_to_data(summary: OrganisationSummary) -> dict[str, Any]:
    """The summary as plain JSON data, to keep once the responses behind it are deleted."""

    def table(rows: list[dict[str, SummaryCell]]) -> list[dict[str, list[Any]]]:
        return [
            {name: [c.subjects, c.responses, c.mean, c.hidden_reason] for name, c in row.items()}
            for row in rows
        ]

    return {
        "segments": summary.segments,
        "values": table(summary.values),
        "values_self": table(summary.values_self),
        "statements": table(summary.statements),
        "statements_self": table(summary.statements_self),
        "statement_value": summary.statement_value,
        "statement_positive": summary.statement_positive,
        "threshold": summary.threshold,
        "notes": summary.notes,
    }


def summary_from_data(data: dict[str, Any]) -> OrganisationSummary:
    """The summary kept by summary_to_data, exactly as it was shown."""

    def table(rows: list[dict[str, list[Any]]]) -> list[dict[str, SummaryCell]]:
        return [{name: SummaryCell(*cell) for name, cell in row.items()} for row in rows]

    return OrganisationSummary(
        segments=list(data["segments"]),
        values=table(data["values"]),
        values_self=table(data["values_self"]),
        statements=table(data["statements"]),
        statements_self=table(data["statements_self"]),
        statement_value=list(data["statement_value"]),
        statement_positive=list(data["statement_positive"]),
        threshold=int(data["threshold"]),
        notes=list(data["notes"]),
    )
