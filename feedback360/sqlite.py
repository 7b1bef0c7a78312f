"""SQLite set up to survive concurrent writers: WAL, a busy timeout, BEGIN IMMEDIATE.

WAL lets readers work while one writer writes, and the busy timeout makes a second writer
wait its turn. But a transaction that reads first and writes later (a draft read, merged
and written back) still fails at once when another writer committed in between, or loses
that writer's change. So a transaction that may write takes the write lock at its start:
every POST, every command and background job, and the few GET views marked `@writes`.
Other GETs only read, and run side by side.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from flask import current_app, has_request_context, request
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 30_000
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")

View = TypeVar("View", bound=Callable[..., Any])

# False only where a test looks at the database between the app's requests: it should see
# each commit at once and never hold the write lock the app under test is waiting for.
_whole_transactions: ContextVar[bool] = ContextVar("sqlite_whole_transactions", default=True)


def writes(view: View) -> View:
    """Mark a GET view that changes data (an audit entry, a link marked opened)."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def configure(engine: Engine) -> None:
    """Install the connection settings and the transaction start on a SQLite engine."""
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)


def _on_connect(connection: sqlite3.Connection, _record: Any) -> None:
    connection.isolation_level = None  # the app says when transactions begin, not the driver
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Deleted rows are overwritten with zeros, not left in free pages for a copy to read.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _on_begin(connection: Any) -> None:
    dbapi = connection.connection.dbapi_connection
    mode = _transaction_mode()
    connection.info["read_only"] = mode == "read"
    if mode == "observe":
        dbapi.isolation_level = ""  # the driver's own: reads outside, BEGIN before a write
        return
    dbapi.isolation_level = None
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")


def _transaction_mode() -> str:
    if not _whole_transactions.get():
        return "observe"
    if not has_request_context() or request.method not in READ_ONLY_METHODS:
        return "write"
    view = current_app.view_functions.get(request.endpoint or "")
    return "write" if getattr(view, "writes_on_get", False) else "read"


@event.listens_for(Session, "before_flush")
def _refuse_writes_in_reads(session: Session, *_: Any) -> None:
    """A GET that writes without `@writes` would fail only under load: fail it every time."""
    changed = any(session.is_modified(row) for row in session.dirty)
    if not (session.new or session.deleted or changed):
        return
    if session.connection().info.get("read_only"):
        raise RuntimeError(
            f"{request.endpoint} changes data on {request.method}: mark the view @writes "
            "so that on SQLite its transaction takes the write lock at the start"
        )


@contextmanager
def _whole_transactions_set(value: bool) -> Iterator[None]:
    token = _whole_transactions.set(value)
    try:
        yield
    finally:
        _whole_transactions.reset(token)


def looking_between_requests() -> AbstractContextManager[None]:
    """Reads see every commit at once and hold no lock (for tests watching the app)."""
    return _whole_transactions_set(False)


def whole_transactions() -> AbstractContextManager[None]:
    """Undo `looking_between_requests` for work the app does, such as a test's request."""
    return _whole_transactions_set(True)
