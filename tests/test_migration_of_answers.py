"""Issue 13, point 4 of the acceptance: the migration carries existing answers across.

An installation of the version before (answers stored at submission, with the date, drafts
in plain text, a receipt per submission) is upgraded on each database. Afterwards: no date
is left on any answer; every response, rating and comment was written again in random
order; a closed cycle's groups below k are stored pooled with the counts kept; and a
draft in an open cycle is sealed and still opens for its rater.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, text

from feedback360.accounts.services import add_person
from feedback360.closing import close_cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import FeedbackRequest, Invitation, Response
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from tests.conftest import DATABASES, nominate_colleague, running_app
from tests.test_backup import run
from tests.test_unlinked_storage import (
    MOST_CORRELATION,
    MOST_IN_PLACE,
    in_place_and_correlation,
    stored_order,
)

BEFORE = "28b6dfb26b78"  # the revision before answers were sealed
LEGACY = 40  # responses Kim had when the old version closed the cycle


@pytest.fixture(params=DATABASES)
def upgraded(request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An installation at the old revision holding answers as that version stored them,
    then upgraded; returns the ids the tests look at."""
    with running_app(tmp_path, monkeypatch, tables=False, database=request.param) as app:
        assert run(app, "db", "upgrade").exit_code == 0
        framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
        ids = _at_head(framework)
        db.session.remove()
        downgraded = run(app, "db", "downgrade", BEFORE)
        assert downgraded.exit_code == 0, downgraded.output
        _as_the_old_version_stored_them(ids)
        upgraded = run(app, "db", "upgrade")
        assert upgraded.exit_code == 0, upgraded.output
        db.session.remove()
        yield ids


def _at_head(framework):  # type: ignore[no-untyped-def]
    """Sam's request in an open cycle, a rater's draft with words we can look for; Kim's
    request in a cycle that will hold the old version's responses."""
    open_cycle = create_cycle("Open", framework, min_raters=3)
    open_cycle.open()
    sam = services.start_request(open_cycle, add_person("Sam Taylor", "sam@example.org"))
    for n in range(3):
        nominate_colleague(sam, f"Rater {n}", f"rater{n}@example.org", "peer")
    services.send_invitations(sam)
    draft = Answers({framework.statements[0].id: 4}, {framework.values[0].id: "Draft-words-91"})
    services.save_rater_draft(sam.invitations[0], draft)
    closed = create_cycle("Closed", framework, min_raters=3)
    closed.open()
    kim = services.start_request(closed, add_person("Kim Lee", "kim@example.org"))
    db.session.commit()
    return {
        "sam": sam.id,
        "kim": kim.id,
        "closed": closed.id,
        "draft_invitation": sam.invitations[0].id,
        "statement": framework.statements[0].id,
        "value": framework.values[0].id,
    }


def _as_the_old_version_stored_them(ids) -> None:  # type: ignore[no-untyped-def]
    """Kim's cycle closed with forty responses, one a day, in order; Sam's has three."""
    statement, value = ids["statement"], ids["value"]
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE cycle SET status = 'closed' WHERE id = :id"), {"id": ids["closed"]}
        )
        rows = [
            (ids["kim"], "peer" if n < LEGACY - 1 else "direct_report", n) for n in range(LEGACY)
        ]
        rows += [(ids["sam"], "peer", 100 + n) for n in range(3)]
        for request_id, group, n in rows:
            response_id = f"{n:032d}"
            connection.execute(
                text(
                    'INSERT INTO response (id, request_id, "group", submitted_on) '
                    "VALUES (:id, :request, :group, :day)"
                ),
                {
                    "id": response_id,
                    "request": request_id,
                    "group": group,
                    "day": date(2026, 1, 1) + timedelta(days=n),
                },
            )
            connection.execute(
                text("INSERT INTO rating (response_id, statement_id, score) VALUES (:r, :s, 4)"),
                {"r": response_id, "s": statement},
            )
            connection.execute(
                text(
                    "INSERT INTO comment (id, response_id, value_id, text) VALUES (:i, :r, :v, :t)"
                ),
                {"i": f"c{n:031d}", "r": response_id, "v": value, "t": f"Rater {n:03d}"},
            )


def test_no_answer_keeps_a_date_or_a_receipt(upgraded):
    tables = inspect(db.engine)
    assert "submitted_on" not in {c["name"] for c in tables.get_columns("response")}
    assert "submission_receipt" not in tables.get_table_names()
    assert "draft" not in {c["name"] for c in tables.get_columns("invitation")}


def test_every_response_is_written_again_in_random_order(upgraded):
    rows = db.session.execute(text("SELECT response_id, text FROM comment")).all()
    rater = {response_id: int(words.split()[1]) for response_id, words in rows}
    kims = set(db.session.scalars(db.select(Response.id).filter_by(request_id=upgraded["kim"])))
    for table, column in (("response", "id"), ("comment", "response_id")):
        order = [rater[r] for r in stored_order(table, column) if r in kims]
        assert sorted(order) == list(range(LEGACY))
        in_place, correlation = in_place_and_correlation(order)
        assert in_place <= MOST_IN_PLACE, (table, order)
        assert abs(correlation) < MOST_CORRELATION, (table, order)


def test_a_closed_cycles_small_group_is_pooled_and_its_counts_kept(upgraded):
    kim = db.session.get(FeedbackRequest, upgraded["kim"])
    assert kim.response_counts == {"peer": LEGACY - 1, "direct_report": 1}
    groups = set(db.session.scalars(db.select(Response.group).filter_by(request_id=kim.id)))
    # The lone direct report is pooled, and the peers with them so that the pool can be shown.
    assert groups == {"pooled"}


def test_an_open_cycles_answers_stay_as_they_were_until_its_close(upgraded):
    sam = db.session.get(FeedbackRequest, upgraded["sam"])
    assert sam.response_counts is None
    assert (
        sorted(db.session.scalars(db.select(Response.group).filter_by(request_id=sam.id)))
        == ["peer"] * 3
    )


def test_a_draft_is_sealed_and_still_opens_for_its_rater(upgraded):
    invitation = db.session.get(Invitation, upgraded["draft_invitation"])
    assert b"Draft-words-91" not in invitation.sealed_answers
    assert services.rater_draft(invitation)["comments"] == {
        str(invitation.request.cycle.framework.values[0].id): "Draft-words-91"
    }


def test_the_open_cycle_closes_as_any_other(upgraded):
    sam = db.session.get(FeedbackRequest, upgraded["sam"])
    close_cycle(sam.cycle)
    db.session.commit()
    assert db.session.get(FeedbackRequest, sam.id).response_counts == {"peer": 3}
