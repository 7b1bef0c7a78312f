"""What the analysis engine returns and the report presents: plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Rater groups as stored on responses and invitations, in report order.
SELF = "self"
LINE_MANAGER = "line_manager"
PEER = "peer"
DIRECT_REPORT = "direct_report"
OTHER = "other"
RATER_GROUPS = (LINE_MANAGER, PEER, DIRECT_REPORT, OTHER)
GROUPS = (SELF, *RATER_GROUPS)

# Columns the engine may add on top of the groups.
OTHER_RATERS = "other_raters"
ALL_RATERS = "all_raters"

LABELS = {
    SELF: "Self",
    LINE_MANAGER: "Line manager",
    PEER: "Peers",
    DIRECT_REPORT: "Direct reports",
    OTHER: "Others",
    OTHER_RATERS: "Other raters",
    ALL_RATERS: "All raters",
}


@dataclass(frozen=True)
class Column:
    """A column the report may show: self, an identifiable manager, a group, a pool, all."""

    key: str
    label: str
    responses: int


@dataclass(frozen=True)
class Cell:
    """One statement's ratings in one column; mean is None when there is nothing to show."""

    n: int
    not_seen: int
    mean: float | None
    sd: float | None
    low: int | None
    high: int | None
    hidden_reason: str | None = None


@dataclass(frozen=True)
class StatementResult:
    index: int
    cells: dict[str, Cell]
    gap: float | None  # all raters' mean − self; None where either is missing


@dataclass(frozen=True)
class ValueResult:
    index: int
    scores: dict[str, float | None]  # by column key; negative statements reverse-scored
    gap: float | None


@dataclass(frozen=True)
class ShownComment:
    value_index: int
    text: str
    label: str | None  # group label only where that group is shown


@dataclass(frozen=True)
class GroupStatus:
    """What the subject may know of a group: how many responded and whether it is shown."""

    key: str
    label: str
    responses: int
    shown: bool


@dataclass(frozen=True)
class ReportResult:
    columns: list[Column]
    groups: list[GroupStatus]
    total_responses: int  # everyone but self
    rater_scores_shown: bool
    withheld_reason: str | None
    statements: list[StatementResult]
    values: list[ValueResult]
    comments: list[ShownComment]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ValueText:
    title: str
    summary: str


@dataclass(frozen=True)
class StatementText:
    text: str
    positive: bool
    value_index: int


@dataclass(frozen=True)
class ReportDocument:
    """Everything one personal report shows: who, which cycle, the framework and results."""

    subject_name: str
    subject_first_name: str
    cycle_name: str
    framework_name: str
    preamble: str
    scale: list[str]  # labels of points 1..n, e.g. "Never" … "Always"
    generated_on: date
    threshold: int
    values: list[ValueText]
    statements: list[StatementText]
    result: ReportResult
