"""Keep personal link tokens out of every log: access logs print the request path, and a
path holding a rater's or a set-password token would let anyone reading the log use it."""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# /r/<token>... (not the shared /r/thanks and /r/declined pages) and
# /account/set-password/<token>; a token runs to the next /, ?, #, quote or space.
_LINK = re.compile(
    r"(?P<prefix>/r/|/account/set-password/)"
    r"(?!(?:thanks|declined)(?:[/?#\s\"']|$))"
    r"[^/?#\s\"']+"
)


def redact(text: str) -> str:
    return _LINK.sub(lambda match: match["prefix"] + REDACTED, text)


def redact_links_in_logs() -> None:
    """Make every log record, whichever logger makes it and whichever handler writes it,
    carry its message with tokens redacted.

    A record factory rather than a filter: a filter sits on one logger or one handler, and
    werkzeug, gunicorn and our own modules each log through their own.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_links", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001, S110  (logging reports a bad format itself, later)
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return record

    make_record.redacts_links = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
