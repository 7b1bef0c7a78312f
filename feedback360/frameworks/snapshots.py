"""A framework version as plain frozen objects, made once per process and kept.

Every rater page and every autosave needs the whole framework: its values, statements and
scale. Loaded as ORM rows that is two queries and some sixty objects a request, a third of
a request's time. A stored version never changes (a changed file is loaded as a new
version; models.refuse_changes_to_stored_frameworks enforces it), so each process builds
the snapshot on first use and keeps it.

The cache is keyed by the framework's id, its content hash and when it was loaded, so a
row put back under the same id with other contents (a database emptied and loaded again,
as tests and the demo reset do) is a new key, never a stale hit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from feedback360.frameworks.models import DescribesItself, Framework, plain_statement_text

# Versions in use at once are few (one or two a cycle); the bound only stops a process that
# meets many test databases from growing without end.
MOST_KEPT = 64


@dataclass(frozen=True, slots=True)
class StatementSnapshot:
    id: int
    value_id: int
    position: int
    text: str
    positive: bool
    serious: bool
    plain_text: str  # the text without the list punctuation of the framework's sentence


@dataclass(frozen=True, slots=True)
class ValueSnapshot:
    id: int
    position: int
    title: str
    summary: str
    statements: tuple[StatementSnapshot, ...]


@dataclass(frozen=True, slots=True)
class FrameworkSnapshot(DescribesItself):
    """What Framework offers the rating pages, with values and statements in their order."""

    id: int
    key: str
    version: int
    name: str
    preamble: str
    scale: tuple[str, ...]
    values: tuple[ValueSnapshot, ...]
    statements: tuple[StatementSnapshot, ...] = field(init=False)

    def __post_init__(self) -> None:
        every = tuple(statement for value in self.values for statement in value.statements)
        object.__setattr__(self, "statements", every)  # derived once; the object stays frozen


VersionKey = tuple[int, str, datetime]
_kept: dict[VersionKey, FrameworkSnapshot] = {}
_kept_lock = threading.Lock()


def snapshot_of(framework: Framework) -> FrameworkSnapshot:
    """The framework's snapshot, built from its rows the first time this process meets it.

    Reads only the framework's own row when the snapshot is kept already: load it without
    its values (see feedback.services.invitation_for_token) and they are never loaded.
    """
    key = (framework.id, framework.source_hash, framework.loaded_at)
    kept = _kept.get(key)
    if kept is not None:
        return kept
    made = _snapshot(framework)
    with _kept_lock:
        if len(_kept) >= MOST_KEPT:
            _kept.clear()
        _kept[key] = made
    return made


def _snapshot(framework: Framework) -> FrameworkSnapshot:
    return FrameworkSnapshot(
        id=framework.id,
        key=framework.key,
        version=framework.version,
        name=framework.name,
        preamble=framework.preamble,
        scale=tuple(framework.scale),
        values=tuple(
            ValueSnapshot(
                id=value.id,
                position=value.position,
                title=value.title,
                summary=value.summary,
                statements=tuple(
                    StatementSnapshot(
                        id=statement.id,
                        value_id=value.id,
                        position=statement.position,
                        text=statement.text,
                        positive=statement.positive,
                        serious=statement.serious,
                        plain_text=plain_statement_text(statement.text),
                    )
                    for statement in value.statements
                ),
            )
            for value in framework.values
        ),
    )
