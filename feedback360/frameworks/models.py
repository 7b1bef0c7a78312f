"""A versioned framework: values, each with positive and negative behaviour statements."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event, false, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from feedback360.extensions import db
from feedback360.timeutil import utcnow

SECONDS_PER_STATEMENT = 15
SECONDS_PER_COMMENT_BOX = 60


class DescribesItself:
    """What a framework says of itself, stored (Framework) or kept in memory (its snapshot)."""

    __slots__ = ()

    @property
    def minutes_to_rate(self) -> int:
        return minutes_to_rate(len(self.statements), len(self.values))  # type: ignore[attr-defined]

    @property
    def label(self) -> str:
        return f"{self.name}, version {self.version}"  # type: ignore[attr-defined]


class Framework(DescribesItself, db.Model):
    """Frozen once loaded: a changed file is loaded as a new version, never over an old one."""

    __tablename__ = "framework"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    preamble: Mapped[str] = mapped_column(Text, default="")
    scale: Mapped[list[str]] = mapped_column(JSON)
    source_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    # A framework is almost always wanted whole (every page lists its statements): two
    # queries load every value and statement, instead of one per value.
    values: Mapped[list[Value]] = relationship(
        back_populates="framework",
        order_by="Value.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def statements(self) -> list[Statement]:
        return [statement for value in self.values for statement in value.statements]


class Value(db.Model):
    __tablename__ = "value"
    __table_args__ = (UniqueConstraint("framework_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)

    framework: Mapped[Framework] = relationship(back_populates="values")
    statements: Mapped[list[Statement]] = relationship(
        back_populates="value",
        order_by="Statement.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


# The seed lists statements as one sentence: "…;", "…; and", "…; or", "…."
_LIST_ENDING = re.compile(r"(;\s*(and|or)?|\.)\s*$")


class Statement(db.Model):
    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("value_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("value.id"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    positive: Mapped[bool]
    # A "We will not" the framework names as serious: a coach must see it on the report's
    # first page when all raters have seen it often enough. Fixed with the version.
    serious: Mapped[bool] = mapped_column(default=False, server_default=false())

    value: Mapped[Value] = relationship(back_populates="statements")

    @property
    def plain_text(self) -> str:
        return plain_statement_text(self.text)


def minutes_to_rate(statements: int, values: int) -> int:
    """A rough, honest estimate for raters, to the nearest five minutes."""
    seconds = statements * SECONDS_PER_STATEMENT + values * SECONDS_PER_COMMENT_BOX
    return max(5, 5 * round(seconds / 300))


def plain_statement_text(text: str) -> str:
    """The statement without the list punctuation it has in the framework's sentence."""
    return _LIST_ENDING.sub("", text)


@event.listens_for(Statement.serious, "set", active_history=True)
def _serious_is_frozen(statement: Statement, value: bool, old: object, _initiator: object) -> None:
    """Which statements are serious belongs to the framework version: a stored statement
    keeps its flag, and only a new version (a changed file, loaded again) can differ."""
    if statement.id is not None and bool(value) != bool(old):
        raise ValueError(
            "A loaded framework version cannot change which statements are serious:"
            " load the changed file as a new version."
        )


STORED_VERSION_FROZEN = (
    "A stored framework version never changes (each process keeps a copy of it, see"
    " frameworks.snapshots): load the changed file as a new version."
)


@event.listens_for(Session, "before_flush")
def refuse_changes_to_stored_frameworks(session: Session, *_: Any) -> None:
    """A stored framework, value or statement never changes, nor gains values or statements:
    the rater pages serve each version from memory."""
    for row in session.dirty:
        if isinstance(row, Framework | Value | Statement) and session.is_modified(row):
            raise ValueError(STORED_VERSION_FROZEN)
    for row in session.new:
        if isinstance(row, Value):
            parent, parent_id = row.framework, row.framework_id
        elif isinstance(row, Statement):
            parent, parent_id = row.value, row.value_id
        else:
            continue
        if parent_id is not None or (parent is not None and inspect(parent).persistent):
            raise ValueError(STORED_VERSION_FROZEN)
