"""Words for people: a count and its noun, singular or plural as the count needs."""

from __future__ import annotations


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """ "1 report", "3 reports"; `plural` where adding an "s" is wrong."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
