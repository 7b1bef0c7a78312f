"""Keep personal link tokens out of every log: access logs print the request path, and a
path holding a rater's or a set-password token would let anyone reading the log use it."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote, unquote

REDACTED = "[redacted]"
# /r/<token>... (not the shared /r/thanks and /r/declined pages) and
# /account/set-password/<token>; a token runs to the next /, ?, #, quote or space. Repeated
# slashes count as one, as werkzeug merges them.
_LINK = re.compile(
    r"(?P<prefix>/r/+|/account/+set-password/+)"
    r"(?!(?:thanks|declined)(?:[/?#\s\"']|$))"
    r"[^/?#\s\"']+"
)
# A path or an address in a log line: the request line carries it as the browser sent it.
_WORD = re.compile(r"[^\s\"']+")
# More layers of encoding than this and the whole word goes: nobody's link needs them.
_DECODINGS = 5
_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f\"']")


def redact(text: str) -> str:
    """The text with every link token replaced, however its path was percent-encoded: the
    server decodes "/r%2F<token>" and "/%72/<token>" to the link's page before routing."""
    return _WORD.sub(_redact_word, text)


def _redact_word(word: re.Match[str]) -> str:
    text = decoded = word[0]
    for _ in range(_DECODINGS):
        text, decoded = decoded, unquote(decoded)
        if decoded == text:
            break
    else:
        return REDACTED
    if not _LINK.search(decoded):
        return word[0]  # kept as it was written
    redacted = _LINK.sub(lambda match: match["prefix"] + REDACTED, decoded)
    # Encoded again where decoding made a line break or a space: no forged log lines.
    return _UNPRINTABLE.sub(lambda match: quote(match[0], safe=""), redacted)


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
