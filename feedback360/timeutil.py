"""Time in one shape: every timestamp timezone-aware UTC, every date written one way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()


def long_date(day: date) -> str:
    """A date as people write it in Britain, e.g. 23 November 2026, whatever the locale."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def short_moment(moment: datetime) -> str:
    """A moment for a log line, e.g. 23 Nov 2026, 14:05 (UTC)."""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {MONTHS[moment.month - 1][:3]} {moment.year}, {moment:%H:%M}"


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC without a zone (as the schema has always had it) and read
    back aware, on SQLite as on PostgreSQL, so no caller puts the zone back by hand."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)
