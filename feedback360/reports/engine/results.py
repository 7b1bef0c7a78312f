"""What the analysis engine returns and the report presents: plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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
    # How many ratings chose each scale point, 1..n: "All raters" only, and only when shown.
    distribution: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Norm:
    """Where the subject stands among the cycle's subjects with shown "All raters" scores."""

    subjects: int
    p25: float
    median: float
    p75: float
    percentile: float  # share of those subjects scoring below this one, 0–100


@dataclass(frozen=True)
class StatementResult:
    index: int
    cells: dict[str, Cell]
    # All raters' mean − self, both as printed (one decimal); None where either is missing.
    gap: float | None
    # The gap read by polarity: positive means others see the person behave better than
    # they think (more often for "We will", less often for "We will not").
    outlook: float | None = None
    rwg: float | None = None  # agreement between all raters, 0–1
    raters_disagree: bool = False  # rwg below the cycle's flag
    norm: Norm | None = None


# Self-other agreement (after Atwater & Yammarino), per value.
OVER_ESTIMATOR, IN_AGREEMENT, UNDER_ESTIMATOR = "over", "agree", "under"
# Within the margin on the value's mean, but with large statement gaps both ways: the mean
# only hides gaps that cancel out, so it is not called agreement.
MIXED = "mixed"
AGREEMENT_LABELS = {
    (OVER_ESTIMATOR, True): "Over-estimates (others still rate this well)",
    (OVER_ESTIMATOR, False): "Over-estimates",
    (IN_AGREEMENT, True): "In agreement, rated well",
    (IN_AGREEMENT, False): "In agreement, rated low",
    (MIXED, True): "Mixed: others see some statements better and some worse, rated well",
    (MIXED, False): "Mixed: others see some statements better and some worse, rated low",
    (UNDER_ESTIMATOR, True): "Under-estimates (others rate this well)",
    (UNDER_ESTIMATOR, False): "Under-estimates, rated low",
}


@dataclass(frozen=True)
class Agreement:
    kind: str  # OVER_ESTIMATOR, IN_AGREEMENT, MIXED or UNDER_ESTIMATOR
    good: bool  # others' value score reaches the cycle's good score

    @property
    def label(self) -> str:
        return AGREEMENT_LABELS[(self.kind, self.good)]


@dataclass(frozen=True)
class ValueResult:
    """A value's scores: per column, the mean of the ratings in its shown statement cells.

    Every rating weighs the same and "We will not" ratings are reverse-scored, so a score
    is a function of the cells the report shows and reveals nothing they hide. The gap and
    change are worked out from the scores as printed (one decimal).
    """

    index: int
    scores: dict[str, float | None]  # by column key; negative statements reverse-scored
    gap: float | None
    agreement: Agreement | None = None
    norm: Norm | None = None
    change: float | None = None  # "All raters" score now − in the previous report


@dataclass(frozen=True)
class Highlight:
    """A statement singled out: blind spot, hidden strength, highest or lowest rated."""

    statement_index: int
    others: float  # "All raters" mean
    self: float | None
    outlook: float | None


@dataclass(frozen=True)
class SeriousNegative:
    """A serious "We will not" that all raters have seen at or above the cycle's level.

    Only from a shown cell of all raters (or of the shown "Other raters" where "All
    raters" is not shown) with at least k ratings: never one rater's answer, never a
    hidden cell.
    """

    statement_index: int
    column: str  # ALL_RATERS or OTHER_RATERS: whose score it is
    score: float  # the cell's mean as printed
    ratings: int  # how many ratings the mean rests on ("Not seen" excluded)
    low: int | None  # the spread, as the statement's table prints it ("All raters" only)
    high: int | None


# Why the start page picks a statement: strengths first, then priorities.
HIGHEST, HIDDEN_STRENGTH = "highest", "hidden strength"
SERIOUS, BLIND_SPOT, LOWEST, SEEN_OFTEN = "serious", "blind spot", "lowest", "seen often"


@dataclass(frozen=True)
class Pick:
    """A statement on the start page, and which printed list it comes from."""

    statement_index: int
    reason: str


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
    # Large gap, raters agree, at least k ratings; at most `highlights` each, largest first.
    blind_spots: list[Highlight] = field(default_factory=list)
    hidden_strengths: list[Highlight] = field(default_factory=list)
    # The other statements whose gap alone is large enough, largest first.
    possible_blind_spots: list[Highlight] = field(default_factory=list)
    possible_hidden_strengths: list[Highlight] = field(default_factory=list)
    highest: list[Highlight] = field(default_factory=list)  # positive statements
    lowest: list[Highlight] = field(default_factory=list)  # positive statements
    most_seen_negative: list[Highlight] = field(default_factory=list)
    # Serious "We will not" seen at or above the level, for the first page; highest first.
    serious_negatives: list[SeriousNegative] = field(default_factory=list)
    norm_subjects: int = 0  # subjects behind the cycle norms; 0 when norms are not shown
    # The start page: at most three of each, from the lists above.
    strengths: list[Pick] = field(default_factory=list)
    priorities: list[Pick] = field(default_factory=list)
    # Statements whose self score lies outside all raters' printed spread (for the coach).
    self_outside_spread: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ValueText:
    title: str
    summary: str


@dataclass(frozen=True)
class StatementText:
    text: str
    positive: bool
    value_index: int
    serious: bool = False  # a "We will not" the framework names as serious


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
    invited: int | None = None  # raters sent an invitation; None where not known
