"""Domain errors: a rule of the product refused what was asked, with a message for people."""

from __future__ import annotations


class DomainError(Exception):
    """Raised by services and state changes; views show the message, the CLI prints it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
