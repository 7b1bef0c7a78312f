"""Serious negatives: the "We will not" statements a framework names as serious that all
raters have seen at or above the cycle's level, for the report's first page."""

from __future__ import annotations

import numpy as np

from feedback360.groups import ALL_RATERS, OTHER_RATERS
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.printed import printed
from feedback360.reports.engine.results import Cell, SeriousNegative, StatementResult


def serious_negatives(
    statements: list[StatementResult], serious: np.ndarray | None, settings: CycleSettings
) -> list[SeriousNegative]:
    """The serious statements whose raters' mean, as printed, reaches the level.

    Read from the shown "All raters" cell, or the shown "Other raters" cell where "All
    raters" is not shown for the statement; a cell counts only with a mean and at least k
    ratings, so one rater's answer never raises the flag and a hidden cell never does.
    Highest score first, ties in statement order.
    """
    if serious is None:
        return []
    flagged = []
    for statement in statements:
        if not serious[statement.index]:
            continue
        found = _pooled_cell(statement, settings.k)
        if found is None:
            continue
        column, cell = found
        score = float(printed(cell.mean))
        if score >= settings.serious_level:
            # The spread only where the report already prints it: for "All raters".
            low, high = (cell.low, cell.high) if column == ALL_RATERS else (None, None)
            flagged.append(SeriousNegative(statement.index, column, score, cell.n, low, high))
    return sorted(flagged, key=lambda s: (-s.score, s.statement_index))


def _pooled_cell(statement: StatementResult, k: int) -> tuple[str, Cell] | None:
    for column in (ALL_RATERS, OTHER_RATERS):
        cell = statement.cells.get(column)
        if cell is not None and cell.mean is not None and cell.hidden_reason is None:
            return (column, cell) if cell.n >= k else None
    return None
