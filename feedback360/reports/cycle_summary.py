"""A cycle's organisation summary, worked out once at its close and kept unchanged (rule 9).

Each subject counts in the unit and staff type they had at the close: a later re-import or
an erasure must not change a figure anyone has seen, or the difference would single a
person out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from feedback360.accounts.models import Person
from feedback360.cycles.models import CLOSED, RELEASED, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.engine.crossed_groupings import linked_summaries
from feedback360.reports.engine.organisation import (
    ALL,
    OrganisationSummary,
    summary_from_data,
    summary_to_data,
)
from feedback360.reports.loading import LoadedCycle, load_cycle
from feedback360.reports.models import OrganisationSummary as KeptSummary
from feedback360.reports.services import settings_for
from feedback360.timeutil import utcnow

# The ways of splitting the organisation, by the Person column each reads.
VIEWS = {"business_unit": "business unit", "staff_type": "staff type"}
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True)
class CycleSummary:
    """Each view's summary with the texts needed to label it."""

    views: dict[str, OrganisationSummary]
    value_titles: list[str]
    statement_texts: list[str]
    scale: list[str]  # the rating scale's labels, 1 first
    kept_on: date | None = None  # set when read from the kept aggregates


def has_summary(cycle: Cycle) -> bool:
    """Only a closed or released cycle's responses are final enough to summarise."""
    return cycle.status in (CLOSED, RELEASED)


def cycle_summary(cycle: Cycle) -> CycleSummary:
    """The summary kept at the close."""
    if not has_summary(cycle):
        raise DomainError(
            f"“{cycle.name}” is {cycle.status}: its organisation summary is ready once it closes."
        )
    kept = db.session.get(KeptSummary, cycle.id)
    if kept is None:
        if cycle.responses_deleted_on is not None:
            raise DomainError(
                f"The responses of “{cycle.name}” were deleted and no summary was kept from them."
            )
        # A cycle closed before summaries were kept at the close: keep it now, once.
        kept = keep_summary(cycle)
    return _from_data(kept.data, kept.made_at.date())


def summarise(cycle: Cycle, loaded: LoadedCycle | None = None) -> CycleSummary:
    """Work the summary out from the cycle's responses (or those given), by each view, with
    each subject's unit and staff type as they are now, as rule 9 allows."""
    loaded = loaded or load_cycle(cycle.id)
    people = {
        request_id: (unit, staff_type)
        for request_id, unit, staff_type in db.session.execute(
            db.select(FeedbackRequest.id, Person.business_unit, Person.staff_type)
            .join(Person, FeedbackRequest.subject_id == Person.id)
            .where(FeedbackRequest.cycle_id == cycle.id)
        )
    }
    # Both views at once: one may hide more so that the pair reveals no one (rule 9).
    first, second = (
        [_segment(people[request_id][column]) for request_id in loaded.request_ids]
        for column in range(len(VIEWS))
    )
    pair = linked_summaries(
        loaded.arrays, first, second, settings_for(cycle), names=tuple(VIEWS.values())
    )
    views = dict(zip(VIEWS, pair, strict=True))
    framework = cycle.framework
    return CycleSummary(
        views=views,
        value_titles=[value.title for value in framework.values],
        statement_texts=[statement.plain_text for statement in framework.statements],
        scale=list(framework.scale),
    )


def keep_summary(cycle: Cycle, loaded: LoadedCycle | None = None) -> KeptSummary:
    """Work the summary out and keep it; the close does this once, and nothing after."""
    summary = summarise(cycle, loaded)
    kept = db.session.get(KeptSummary, cycle.id) or KeptSummary(cycle_id=cycle.id)
    kept.data = {
        "views": {key: summary_to_data(view) for key, view in summary.views.items()},
        "value_titles": summary.value_titles,
        "statement_texts": summary.statement_texts,
        "scale": summary.scale,
    }
    kept.made_at = utcnow()
    db.session.add(kept)
    db.session.flush()
    return kept


def _from_data(data: dict[str, Any], kept_on: date) -> CycleSummary:
    return CycleSummary(
        views={key: summary_from_data(view) for key, view in data["views"].items()},
        value_titles=list(data["value_titles"]),
        statement_texts=list(data["statement_texts"]),
        scale=list(data["scale"]),
        kept_on=kept_on,
    )


def _segment(name: str | None) -> str:
    """A person's unit or staff type as a segment name; blank is "Not recorded"."""
    name = (name or "").strip()
    if not name:
        return NOT_RECORDED
    return f"“{name}”" if name == ALL else name
