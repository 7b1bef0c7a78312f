"""Creating cycles, changing their settings until they open, opening and closing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from feedback360.audit.services import record
from feedback360.cycles.models import COACH_FIRST, TOGETHER, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.frameworks.models import Framework
from feedback360.groups import RATER_GROUPS

RELEASE_MODES = (COACH_FIRST, TOGETHER)
DEFAULT_THRESHOLD = 3


@dataclass
class CycleSettings:
    """Everything an administrator chooses for a cycle, with the product's defaults."""

    name: str
    framework: Framework
    opens_on: date | None = None
    closes_on: date | None = None
    rater_groups: list[str] = field(default_factory=lambda: list(RATER_GROUPS))
    threshold: int = DEFAULT_THRESHOLD
    min_raters: int = 5
    max_raters: int = 15
    manager_identifiable: bool = False
    manager_approves: bool = False
    outside_raters: bool = False
    release_mode: str = TOGETHER
    retention_days: int = 90

    @classmethod
    def of(cls, cycle: Cycle) -> CycleSettings:
        return cls(
            name=cycle.name,
            framework=cycle.framework,
            opens_on=cycle.opens_on,
            closes_on=cycle.closes_on,
            rater_groups=list(cycle.rater_groups),
            threshold=cycle.anonymity_threshold,
            min_raters=cycle.min_raters,
            max_raters=cycle.max_raters,
            manager_identifiable=cycle.manager_identifiable,
            manager_approves=cycle.manager_approves,
            outside_raters=cycle.outside_raters,
            release_mode=cycle.release_mode,
            retention_days=cycle.retention_days,
        )


def create_cycle(name: str, framework: Framework, **options: object) -> Cycle:
    """A new draft cycle; refuses a weak threshold, impossible rater limits or a used name."""
    settings = CycleSettings(name, framework, **options)  # type: ignore[arg-type]
    check_settings(settings)
    cycle = Cycle()
    _apply(cycle, settings)
    db.session.add(cycle)
    db.session.flush()
    record("cycle.create", _target(cycle), f"“{cycle.name}”")
    return cycle


def update_cycle(cycle: Cycle, settings: CycleSettings) -> None:
    """Change a draft cycle's settings."""
    check_editable(cycle)
    check_settings(settings, cycle)
    _apply(cycle, settings)
    db.session.flush()
    record("cycle.update", _target(cycle), f"“{cycle.name}”")


def check_editable(cycle: Cycle) -> None:
    """Once a cycle has opened, staff and raters rely on its settings."""
    if not cycle.is_draft:
        raise DomainError(
            f"“{cycle.name}” is {cycle.status}; settings can be changed only before it opens."
        )


def check_settings(settings: CycleSettings, cycle: Cycle | None = None) -> None:
    """Raise a DomainError naming the field of the first setting the rules refuse."""
    name = settings.name.strip()
    if not name:
        raise DomainError("A cycle needs a name.", "name")
    if len(name) > 200:
        raise DomainError("Keep the name to 200 characters or fewer.", "name")
    same_name = db.session.execute(db.select(Cycle).filter_by(name=name)).scalar_one_or_none()
    if same_name is not None and same_name is not cycle:
        raise DomainError(f"A cycle called “{name}” already exists.", "name")
    if settings.opens_on and settings.closes_on and settings.closes_on < settings.opens_on:
        raise DomainError("The closing date must be on or after the opening date.", "closes_on")
    unknown = set(settings.rater_groups) - set(RATER_GROUPS)
    if unknown or not settings.rater_groups:
        raise DomainError("Choose at least one rater group.", "rater_groups")
    if settings.threshold < 2:
        raise DomainError("The anonymity threshold can never be below 2.", "threshold")
    if settings.min_raters < 1:
        raise DomainError("The minimum number of raters must be at least 1.", "min_raters")
    if settings.max_raters < settings.min_raters:
        raise DomainError(
            f"The maximum number of raters ({settings.max_raters}) cannot be below the "
            f"minimum ({settings.min_raters}).",
            "max_raters",
        )
    if settings.min_raters < settings.threshold:
        raise DomainError(
            f"The minimum number of raters ({settings.min_raters}) must reach the anonymity "
            f"threshold ({settings.threshold}), or no report could show rater scores.",
            "min_raters",
        )
    if settings.release_mode not in RELEASE_MODES:
        raise DomainError("Choose how reports are released.", "release_mode")
    if settings.retention_days < 0:
        raise DomainError("The number of days cannot be negative.", "retention_days")


def _apply(cycle: Cycle, settings: CycleSettings) -> None:
    cycle.name = settings.name.strip()
    cycle.framework = settings.framework
    cycle.opens_on = settings.opens_on
    cycle.closes_on = settings.closes_on
    # Kept in the product's order, whatever order they were ticked in.
    cycle.rater_groups = [group for group in RATER_GROUPS if group in settings.rater_groups]
    cycle.anonymity_threshold = settings.threshold
    cycle.min_raters = settings.min_raters
    cycle.max_raters = settings.max_raters
    cycle.manager_identifiable = settings.manager_identifiable
    cycle.manager_approves = settings.manager_approves
    cycle.outside_raters = settings.outside_raters
    cycle.release_mode = settings.release_mode
    cycle.retention_days = settings.retention_days


def open_cycle(cycle: Cycle, *, by_date: bool = False) -> None:
    cycle.open()
    record("cycle.open", _target(cycle), "on its opening date" if by_date else "")


def find_cycle(reference: str) -> Cycle:
    """The cycle with this exact name, else with this id."""
    cycle = db.session.execute(db.select(Cycle).filter_by(name=reference)).scalar_one_or_none()
    if cycle is None and reference.isdigit():
        cycle = db.session.get(Cycle, int(reference))
    if cycle is None:
        raise DomainError(f"No cycle has the id or name “{reference}”.")
    return cycle


def all_cycles() -> list[Cycle]:
    return list(db.session.scalars(db.select(Cycle).order_by(Cycle.created_at.desc())))


def framework_versions() -> list[Framework]:
    """Every loaded version of every framework, newest version of each first."""
    return list(
        db.session.scalars(db.select(Framework).order_by(Framework.key, Framework.version.desc()))
    )


def _target(cycle: Cycle) -> str:
    return f"cycle {cycle.id}"
