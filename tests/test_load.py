"""Fifty raters answering at once under gunicorn: every answer kept, each submission once.

The app runs in gunicorn worker processes, as in production, on the suite's database
(`make test` runs the suite on SQLite, then on PostgreSQL).
How fast it goes is measured in benchmarks/rater_load.py, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func

from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import SUBMITTED, Invitation, Response
from feedback360.frameworks.models import Framework
from tests.conftest import running_app
from tests.rater_load import app_settings, gunicorn, run_raters, seed

RATERS = 50
pytestmark = pytest.mark.suite_database


def test_fifty_raters_at_once_lose_nothing_and_submit_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    with running_app(tmp_path, monkeypatch) as app:  # the suite's database
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        app.config.update(app_settings(instance, url))
        paths = seed(app, RATERS)
        framework = db.session.scalars(db.select(Framework)).one()
        by_value = [[s.id for s in value.statements] for value in framework.values]
        db.session.commit()

        with gunicorn(instance, url, workers=3) as port:
            timings, _ = run_raters(port, paths, by_value, autosaves=3)

        log = (instance / "gunicorn.log").read_text()
        assert timings.problems == [], timings.problems[:5]
        assert "Traceback" not in log, log[-3000:]
        assert timings.summary("POST submit")[0] == RATERS
        statuses = db.session.scalars(db.select(Invitation.status)).all()
        assert statuses == [SUBMITTED] * RATERS
        # At the close every sealed submission becomes one response.
        close_cycle(db.session.scalars(db.select(Cycle)).one())
        db.session.commit()
        assert _count(Response) == RATERS
        # Every rating each rater chose arrived: the answers are n % 5 + 1 on every page.
        expected = sorted(n % 5 + 1 for value in by_value for n in range(len(value))) * RATERS
        scores = b"".join(db.session.scalars(db.select(Response.scores)))
        assert sorted(score for score in scores if score) == sorted(expected)


def _count(model: type) -> int:
    return db.session.scalar(db.select(func.count()).select_from(model))
