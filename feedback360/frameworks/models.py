"""A versioned framework: values, each with positive and negative behaviour statements."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.extensions import db
from feedback360.timeutil import utcnow

SECONDS_PER_STATEMENT = 15
SECONDS_PER_COMMENT_BOX = 60


class Framework(db.Model):
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

    @property
    def minutes_to_rate(self) -> int:
        """A rough, honest estimate for raters, to the nearest five minutes."""
        seconds = len(self.statements) * SECONDS_PER_STATEMENT
        seconds += len(self.values) * SECONDS_PER_COMMENT_BOX
        return max(5, 5 * round(seconds / 300))

    @property
    def label(self) -> str:
        return f"{self.name}, version {self.version}"


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
        """The statement without the list punctuation it has in the framework's sentence."""
        return _LIST_ENDING.sub("", self.text)


@event.listens_for(Statement.serious, "set", active_history=True)
def _serious_is_frozen(statement: Statement, value: bool, old: object, _initiator: object) -> None:
    """Which statements are serious belongs to the framework version: a stored statement
    keeps its flag, and only a new version (a changed file, loaded again) can differ."""
    if statement.id is not None and bool(value) != bool(old):
        raise ValueError(
            "A loaded framework version cannot change which statements are serious:"
            " load the changed file as a new version."
        )
