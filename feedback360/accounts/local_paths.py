"""Whether an address a visitor sent (the `next` page after signing in) is a page of this site."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# Browsers drop tabs and line breaks anywhere in an address, and control characters and
# spaces at its ends: "/\t/evil.example" is "//evil.example" to them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Enough to undo any encoding a page of ours could need; a deeper one is refused.
_DECODINGS = 3


def local_path(target: str | None) -> str | None:
    """The target, control characters removed, if it is a path on this site; else None.

    Refused: anything with a scheme or a host, a path not starting with one "/", a
    backslash (browsers read it as "/"), an empty or dot segment ("//", "/./", "/../"),
    and any of these hidden under percent-encoding, once or several times over.
    """
    if not target:
        return None
    cleaned = _CONTROL.sub("", target).strip()
    candidate = cleaned
    for _ in range(_DECODINGS + 1):
        # An encoded line break is an attempt at a header, never a page of ours.
        if _CONTROL.search(candidate) or not _is_plain_path(candidate):
            return None
        decoded = unquote(candidate)
        if decoded == candidate:
            return cleaned
        candidate = decoded
    return None


def _is_plain_path(address: str) -> bool:
    try:
        parts = urlsplit(address)
    except ValueError:  # a host it cannot read, such as "//["
        return False
    # The path as written: urlsplit reads "///evil" as an empty host and the path "/evil".
    path = re.split(r"[?#]", address, maxsplit=1)[0]
    segments = path.split("/")
    return (
        not parts.scheme
        and not parts.netloc
        and path.startswith("/")
        and "\\" not in path
        and "" not in segments[1:-1]  # "//" anywhere; a trailing "/" is fine
        and not {".", ".."} & set(segments)
    )
