"""Input that no database can store is refused before any view sees it."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, abort, request

UNSTORABLE = "\x00"  # PostgreSQL refuses NUL in text; no keyboard types one
MESSAGE = (
    "What was sent holds a character that cannot be stored (a NUL character). "
    "Please go back and type it again."
)


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_unstorable_characters() -> None:
        # Otherwise the database refuses it mid-request and the person meets a server error.
        if UNSTORABLE in request.path or _holds_unstorable(request.args.items(multi=True)):
            abort(400, MESSAGE)
        if request.method == "POST" and _holds_unstorable(request.form.items(multi=True)):
            abort(400, MESSAGE)


def _holds_unstorable(pairs: Iterable[tuple[str | None, str]]) -> bool:
    # A multipart part whose name werkzeug cannot read (name="\\") arrives with no name.
    return any(UNSTORABLE in (key or "") or UNSTORABLE in value for key, value in pairs)
