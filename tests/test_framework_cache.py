"""The rater pages serve each framework version from memory and save a draft in one write,
without ever showing a stale framework or keeping an answer after the close."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, event, select, text

from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import links, services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import Invitation
from feedback360.frameworks.models import Framework, Statement, Value
from feedback360.frameworks.services import load_framework
from feedback360.frameworks.snapshots import snapshot_of
from feedback360.sqlite import whole_transactions
from tests.conftest import DATABASES, app_on, csrf_token, poll_until


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with app_on(request.param, tmp_path, monkeypatch) as app:
        yield app


SMALL = {
    "key": "small",
    "name": "A small framework",
    "scale": ["Never", "Sometimes", "Always"],
    "values": [{"title": "Kindness", "summary": "Be kind.", "we_will": ["help others."]}],
}


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs (not BEGIN, COMMIT, PRAGMA)."""
    sent: list[str] = []

    def note(_connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_stored_framework_version_cannot_be_changed(app, framework):
    statement = framework.statements[0]
    statement.text = "something else."
    with pytest.raises(ValueError, match="never changes"):
        db.session.flush()
    db.session.rollback()

    value = db.session.get(Value, framework.values[0].id)
    value.statements.append(Statement(position=99, text="a late addition.", positive=True))
    with pytest.raises(ValueError, match="never changes"):
        db.session.flush()


def test_a_framework_loaded_again_under_the_same_id_is_not_served_stale(app, framework):
    """A database emptied and loaded again (as tests and the demo reset do) may give a new
    framework the old one's id: the process must not serve the old one's statements."""
    old_id = snapshot_of(framework).id
    db.session.execute(delete(Statement))
    db.session.execute(delete(Value))
    db.session.execute(delete(Framework))
    if db.engine.dialect.name == "postgresql":  # SQLite gives the freed id again by itself
        db.session.execute(text(f"ALTER SEQUENCE framework_id_seq RESTART WITH {old_id}"))
    db.session.commit()
    db.session.expunge_all()

    small, _ = load_framework(SMALL)
    db.session.commit()
    assert small.id == old_id
    snapshot = snapshot_of(db.session.get(Framework, small.id))
    assert [value.title for value in snapshot.values] == ["Kindness"]
    assert [statement.plain_text for statement in snapshot.statements] == ["help others"]


def test_a_rater_page_reads_one_row_and_an_autosave_writes_one(invited, client, framework):
    link = invited()["rater1@example.org"]
    client.get(link)  # the first visit marks the link opened
    first, other = framework.values[0].statements[:2]
    token = csrf_token(client.get(f"{link}/values/1").text)
    # The cycle's first save makes its answer key, after looking for answers sealed already.
    client.post(f"{link}/values/1", data={"csrf_token": token, f"s{other.id}": "1"})

    with statements_run() as page:
        token = csrf_token(client.get(f"{link}/values/1").text)
    with statements_run() as autosave:
        saved = client.post(
            f"{link}/values/1",
            data={"csrf_token": token, "action": "autosave", f"s{first.id}": "3"},
        )

    assert saved.status_code == 204
    assert [sql.split()[0] for sql in page] == ["SELECT"]  # the invitation, nothing more
    assert [sql.split()[0] for sql in autosave] == ["SELECT", "UPDATE"]
    assert "FROM invitation" in autosave[0]
    assert "value" not in autosave[0].split("FROM")[1]
    invitation = db.session.scalars(select(Invitation).filter_by(email="rater1@example.org")).one()
    assert services.rater_draft(invitation)["ratings"] == {str(other.id): 1, str(first.id): 3}


@pytest.mark.parametrize("app", DATABASES[1:], indirect=True)  # row locks are PostgreSQL's
def test_a_draft_that_waited_for_the_close_is_refused(app, invited, framework):
    """A rater's autosave arriving while the administrator closes the cycle waits for the
    close (which holds every invitation) and is then refused, not written after it."""
    invited()
    invitation = db.session.scalars(select(Invitation).filter_by(email="rater1@example.org")).one()
    token, cycle_id = links.rater_token(invitation), invitation.request.cycle_id
    db.session.commit()
    outcome: list[object] = []

    def save() -> None:
        with app.app_context(), whole_transactions():
            waiting = services.invitation_for_token(token, for_update=True)  # the rater's POST
            try:
                services.save_rater_draft(waiting, Answers({framework.statements[0].id: 2}))
                db.session.commit()
                outcome.append("saved")
            except DomainError as refusal:
                db.session.rollback()
                outcome.append(refusal.message)

    with whole_transactions():
        # The cycle's row held here, so that the close stops once it holds the invitations.
        db.session.execute(select(Cycle).filter_by(id=cycle_id).with_for_update()).one()
        closing = threading.Thread(target=close_elsewhere, args=(app, cycle_id))
        closing.start()
        poll_until(lambda: waiting_for_locks() == 1, timeout=30, what="the close waiting")
        saving = threading.Thread(target=save)
        saving.start()
        poll_until(lambda: waiting_for_locks() == 2, timeout=30, what="the save waiting")
        db.session.commit()
    closing.join(timeout=60)
    saving.join(timeout=60)

    assert outcome == ["“Spring 2026” has closed; answers can no longer be changed."]
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).sealed_answers is None


def close_elsewhere(app, cycle_id: int) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), whole_transactions():
        close_cycle(db.session.get(Cycle, cycle_id))
        db.session.commit()


def waiting_for_locks() -> int:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        ).scalar_one()


def test_the_snapshot_shows_what_the_frameworks_rows_hold(app, framework):
    snapshot = snapshot_of(framework)
    assert [value.title for value in snapshot.values] == [v.title for v in framework.values]
    assert [s.id for s in snapshot.statements] == [s.id for s in framework.statements]
    assert [s.plain_text for s in snapshot.statements] == [
        s.plain_text for s in framework.statements
    ]
    assert snapshot.minutes_to_rate == framework.minutes_to_rate
    assert snapshot.scale == tuple(framework.scale)
