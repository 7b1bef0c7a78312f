"""Organisation-level summaries: value and statement scores by segment, as rule 9 allows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from feedback360.reports.engine.inputs import CycleArrays, CycleSettings
from feedback360.reports.engine.segments import (
    NO_RATINGS,
    REASONS,
    SHOWN,
    Side,
    hide_segments,
    segment_totals,
    sides,
    value_table,
)

ALL = "All"  # the segment holding every subject, always last

_NOTHING_SHOWN = "Nothing is shown for "

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


def organisation_summary(
    arrays: CycleArrays,
    segment_of_subject: Sequence[str],
    settings: CycleSettings,
    *,
    with_values: bool = True,
) -> OrganisationSummary:
    """Score every statement by segment, self and others, hiding what rule 9 hides; then
    every value from the statement cells shown, as a personal report does.

    Without values, the value rows are left empty, for a caller that hides more statement
    cells first and then calls rescored_values.
    """
    segments, both = _sides(arrays, segment_of_subject, settings.k)
    k = settings.k
    reasons = np.array([reason and reason.format(k=k) for reason in REASONS], dtype=object)
    tables = []
    for side in both:
        subjects, responses, sums = segment_totals(side.ratings, side.rated, side)
        reason = hide_segments(subjects, responses, side.headcount, side.k)
        mean = np.full(sums.shape, np.nan)
        np.divide(sums, responses, out=mean, where=reason == SHOWN)
        tables.append(_cells(segments, subjects, responses, mean, reasons[reason]))
    notes = [
        '"Others" pools every rating that raters other than the subject gave to the'
        ' segment\'s subjects; "Not seen" is left out, so people with more raters weigh more.',
        "As in a personal report, a value score is the mean of every rating in the"
        " segment's shown cells for the value's statements, each rating counting once, with"
        f' "We will not" statements reverse-scored ({arrays.scale_points + 1} − x). Ratings'
        " in hidden cells are left out, so a value score never reveals them.",
        f"A cell is shown only where it rests on at least {k} subjects and {k} responses,"
        f" and where it leaves nothing smaller than {k} to be worked out from the total.",
    ]
    summary = OrganisationSummary(
        segments=segments,
        values=[],
        values_self=[],
        statements=tables[0],
        statements_self=tables[1],
        statement_value=np.asarray(arrays.statement_value).tolist(),
        statement_positive=np.asarray(arrays.statement_positive, dtype=bool).tolist(),
        threshold=k,
        notes=notes,
    )
    return _with_values(summary, both, arrays) if with_values else summary


def rescored_values(
    summary: OrganisationSummary,
    arrays: CycleArrays,
    segment_of_subject: Sequence[str],
    settings: CycleSettings,
) -> OrganisationSummary:
    """The summary with its value scores worked out again from the statement cells it shows.

    For a caller that hid more statement cells (crossed groupings): a value score must never
    hold a rating from a hidden cell.
    """
    return _with_values(summary, _sides(arrays, segment_of_subject, settings.k)[1], arrays)


def _sides(
    arrays: CycleArrays, segment_of_subject: Sequence[str], k: int
) -> tuple[list[str], tuple[Side, Side]]:
    """The segments and both sides of the cycle, once the input is known to be sound."""
    if k < 2:
        raise ValueError(f"The anonymity threshold must be at least 2, not {k}.")
    if len(segment_of_subject) != arrays.n_subjects:
        raise ValueError(f"Expected a segment for each of {arrays.n_subjects} subjects.")
    if ALL in map(str, segment_of_subject):
        raise ValueError(f'"{ALL}" is the whole organisation; a segment cannot have that name.')
    return sides(arrays, segment_of_subject, k, ALL)


def _with_values(
    summary: OrganisationSummary, both: tuple[Side, Side], arrays: CycleArrays
) -> OrganisationSummary:
    """The summary with value rows from its shown statement cells, and notes brought up to date.

    Where none of a value's cells is shown, the value keeps the reason of the first.
    """
    segments, tables = summary.segments, []
    for side, rows in zip(both, (summary.statements, summary.statements_self), strict=True):
        shown = np.array([[row[name].mean is not None for row in rows] for name in segments])
        shown = shown.reshape(len(segments), len(rows))
        subjects, responses, mean, first_hidden = value_table(side, shown, arrays)
        reason = np.full(mean.shape, None, dtype=object)
        for g, v in zip(*np.nonzero(np.isnan(mean)), strict=True):
            first = first_hidden[g, v]
            why = REASONS[NO_RATINGS] if first < 0 else rows[first][segments[g]].hidden_reason
            reason[g, v] = why
        tables.append(_cells(segments, subjects, responses, mean, reason))
    notes = [note for note in summary.notes if not note.startswith(_NOTHING_SHOWN)]
    notes += [
        f"{_NOTHING_SHOWN}{name}."
        for name in segments
        if all(
            row[name].mean is None
            for table in (*tables, summary.statements, summary.statements_self)
            for row in table
        )
    ]
    return replace(summary, values=tables[0], values_self=tables[1], notes=notes)


def _cells(
    segments: list[str],
    subjects: np.ndarray,
    responses: np.ndarray,
    mean: np.ndarray,
    reason: np.ndarray,
) -> list[dict[str, SummaryCell]]:
    """Per column (statement or value), {segment: cell} from (segments, columns) arrays."""
    return [
        {
            name: SummaryCell(s, r, None if why else m, why)
            for name, s, r, m, why in zip(segments, *row, strict=True)
        }
        for row in zip(*(a.T.tolist() for a in (subjects, responses, mean, reason)), strict=True)
    ]


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
