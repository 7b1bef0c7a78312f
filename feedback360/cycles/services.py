"""Creating cycles and finding them by id or name."""

from __future__ import annotations

from datetime import date

from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.frameworks.models import Framework


def create_cycle(
    name: str,
    framework: Framework,
    *,
    closes_on: date | None = None,
    threshold: int = 3,
    min_raters: int = 5,
    max_raters: int = 15,
    manager_identifiable: bool = False,
) -> Cycle:
    """A new draft cycle; refuses a weak threshold, impossible rater limits or a used name."""
    if not name.strip():
        raise DomainError("A cycle needs a name.", "name")
    if threshold < 2:
        raise DomainError("The anonymity threshold can never be below 2.", "threshold")
    if not 1 <= min_raters <= max_raters:
        raise DomainError("The minimum number of raters must be between 1 and the maximum.")
    if min_raters < threshold:
        raise DomainError(
            f"The minimum number of raters ({min_raters}) must reach the anonymity threshold "
            f"({threshold}), or no report could show rater scores."
        )
    if db.session.execute(db.select(Cycle).filter_by(name=name.strip())).first():
        raise DomainError(f"A cycle called “{name.strip()}” already exists.", "name")
    cycle = Cycle(
        name=name.strip(),
        framework=framework,
        closes_on=closes_on,
        anonymity_threshold=threshold,
        min_raters=min_raters,
        max_raters=max_raters,
        manager_identifiable=manager_identifiable,
    )
    db.session.add(cycle)
    db.session.flush()
    return cycle


def find_cycle(reference: str) -> Cycle:
    """The cycle with this exact name, else with this id."""
    cycle = db.session.execute(db.select(Cycle).filter_by(name=reference)).scalar_one_or_none()
    if cycle is None and reference.isdigit():
        cycle = db.session.get(Cycle, int(reference))
    if cycle is None:
        raise DomainError(f"No cycle has the id or name “{reference}”.")
    return cycle
