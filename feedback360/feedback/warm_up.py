"""A new server process made ready for the rater pages before it takes its first request.

Invitations go out together, so a cycle's raters arrive together, often just after a
start. A process meeting its first rater page would compile the page's templates (some
90 ms of CPU for the first start page), open a database connection for each thread and
build its SQL, while fifty others wait behind it. gunicorn.conf.py calls warm_up in
each worker before it listens.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from feedback360.extensions import db
from feedback360.feedback.services import invitation_for_token

log = logging.getLogger(__name__)
# The templates of the pages under /r/ and what they are built from (base.html and the
# partials beside it). Others compile on first use, as before.
_RATER_FOLDERS = ("rater/", "feedback/")


def warm_up(app: Flask, *, connections: int) -> None:
    """Compile the rater pages' templates, open `connections` database connections (at
    most the pool's size) and build the query every rater page starts with."""
    compile_rater_templates(app)
    with app.app_context():
        try:
            held = [db.engine.connect() for _ in range(min(connections, _pool_size()))]
            for connection in held:
                connection.close()  # back to the pool, still open
            invitation_for_token("no such link")  # builds and caches the rater query's SQL
        except SQLAlchemyError as error:  # a database not reachable or not made yet: later
            log.warning("Rater pages not warmed up: %s", getattr(error, "orig", None) or error)
        finally:
            db.session.remove()


def compile_rater_templates(app: Flask) -> None:
    """Compile the templates once: a process forked after this inherits them."""
    for name in app.jinja_env.list_templates():
        if "/" not in name or name.startswith(_RATER_FOLDERS):
            app.jinja_env.get_template(name)


def _pool_size() -> int:
    size = getattr(db.engine.pool, "size", None)
    return size() if callable(size) else 1
