"""Issue 13, tried as an attacker with a copy of the database would, on SQLite and PostgreSQL.

Forty raters answer one request, each in a way we can recognise later (their comment names
them), in a known order. Before the close their answers are sealed: a copy of the database
or a backup holds none of their words, and the app's secret key does not open them. After
the close the responses are stored cut from the raters: pairing them with the invitations
by transaction ids, row order, page order, the write-ahead log, dates or a backup taken
before the close does no better than chance.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy import types as sa_types

from feedback360.accounts.services import person_by_email
from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import links, services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import FeedbackRequest, Invitation, Response
from feedback360.feedback.sealing import AnswersUnreadable, keys_dir, make_key, unseal
from feedback360.sqlite import whole_transactions
from tests.conftest import (
    DATABASES,
    app_on,
    nominate_colleague,
    on_staff_list,
    poll_until,
    running_app,
)
from tests.test_backup import run

RATERS = 40
# With 40 raters in random order, 7 or more in their own place happens about once in
# 14,000 runs, and a rank correlation beyond ±0.5 about once in 1,000,000.
MOST_IN_PLACE = 6
MOST_CORRELATION = 0.5


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with app_on(request.param, tmp_path, monkeypatch) as app:
        run(app, "db", "stamp", "head")
        yield app


def words_of(n: int) -> str:
    return f"Rater number {n:02d} wrote this: zebra-{n * 7919:06d}"


def answers_of(framework, n: int) -> Answers:
    """Rater n's answers: recognisable by their comment, and by their ratings too."""
    ratings = {s.id: 1 + (n * (j + 3)) % 5 for j, s in enumerate(framework.statements)}
    return Answers(ratings, {framework.values[0].id: words_of(n)})


@pytest.fixture
def forty(app: Flask, make_person, framework):  # type: ignore[no-untyped-def]
    """Forty peers invited; the first thirty-nine submit in order, the last leaves a draft."""
    cycle = create_cycle("Spring 2026", framework, min_raters=RATERS, max_raters=RATERS)
    cycle.open()
    request = services.start_request(cycle, make_person("Sam Taylor", "sam@example.org"))
    for n in range(RATERS):
        nominate_colleague(request, f"Rater {n}", f"rater{n:02d}@example.org", "peer")
    services.send_invitations(request)
    db.session.commit()
    for n, invitation in enumerate(request.invitations):
        if n < RATERS - 1:
            services.submit_rater_response(invitation, answers_of(framework, n))
        else:
            services.save_rater_draft(invitation, answers_of(framework, n))
        db.session.commit()  # one transaction each, as raters answer one at a time
    return cycle


def database_bytes() -> bytes:
    """Everything a copy of the database holds: the SQLite files as they lie on disk (free
    pages and the write-ahead log included), or every row of every PostgreSQL table."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    rows = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                rows += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    return b"\0".join(rows)


def test_answers_in_progress_cannot_be_read_from_a_copy_even_with_the_secret_key(
    app, forty, tmp_path
):
    copy = database_bytes()
    for n in range(RATERS):
        assert words_of(n).encode() not in copy, f"rater {n}'s words are in the database"

    # The copy plus the app's secret key, in an installation without the answer keys.
    invitations = db.session.scalars(db.select(Invitation).order_by(Invitation.id)).all()
    sealed = [(i.id, i.sealed_answers) for i in invitations]
    key_id = forty.answer_key_id
    moved = tmp_path / "keys-elsewhere"
    shutil.move(keys_dir(), moved)
    for invitation_id, blob in sealed:
        with pytest.raises(AnswersUnreadable):
            unseal(key_id, invitation_id, blob)
    # With the key back they open, so what was sealed was the answers themselves.
    shutil.move(moved, keys_dir())
    assert unseal(key_id, sealed[0][0], sealed[0][1])["comments"] == {
        str(forty.framework.values[0].id): words_of(0)
    }


def test_a_sealed_answer_moved_to_another_invitation_does_not_open(app, forty):
    first, second = db.session.scalars(db.select(Invitation).order_by(Invitation.id)).all()[:2]
    with pytest.raises(AnswersUnreadable):
        unseal(forty.answer_key_id, second.id, first.sealed_answers)


def closed(cycle) -> None:  # type: ignore[no-untyped-def]
    close_cycle(cycle)
    db.session.commit()


def stored_order(table: str, column: str) -> list:  # type: ignore[type-arg]
    """The column's values in the order the rows lie in the database's pages."""
    physical = "rowid" if db.engine.dialect.name == "sqlite" else "ctid"
    return list(
        db.session.execute(text(f'SELECT "{column}" FROM "{table}" ORDER BY {physical}')).scalars()  # noqa: S608
    )


def rater_of_response() -> dict[str, int]:
    """Which rater gave each stored response (the test knows their words; an attacker not)."""
    rows = db.session.execute(text("SELECT response_id, text FROM comment")).all()
    return {response_id: int(words.split()[2]) for response_id, words in rows}


def in_place_and_correlation(order: list[int]) -> tuple[int, float]:
    """How many of the raters sit where their submission order would put them, and the rank
    correlation between the two orders."""
    in_place = sum(1 for position, rater in enumerate(order) if position == rater)
    n = len(order)
    ranks = sorted(range(n), key=lambda position: order[position])
    squared = sum((position - rank) ** 2 for rank, position in enumerate(ranks))
    return in_place, 1 - 6 * squared / (n * (n * n - 1))


def test_after_the_close_row_and_page_order_say_nothing_of_who_answered_when(app, forty):
    closed(forty)
    who = rater_of_response()
    assert sorted(who.values()) == list(range(RATERS - 1))  # every submission, once
    for table, column in (("response", "id"), ("comment", "response_id")):
        order = [who[response_id] for response_id in stored_order(table, column)]
        in_place, correlation = in_place_and_correlation(order)
        assert in_place <= MOST_IN_PLACE, (table, order)
        assert abs(correlation) < MOST_CORRELATION, (table, order)


@pytest.mark.parametrize("app", DATABASES[1:], indirect=True)  # xmin is PostgreSQL's
def test_after_the_close_one_transaction_wrote_every_answer(app, forty):
    closed(forty)
    xmins = {
        table: set(db.session.execute(text(f'SELECT xmin::text FROM "{table}"')).scalars())  # noqa: S608
        for table in ("response", "comment")
    }
    assert all(len(ids) == 1 for ids in xmins.values()), xmins
    assert xmins["response"] == xmins["comment"]
    # Every invitation was written by that same transaction too: joining on xmin pairs each
    # response with all forty invitations, so with none.
    invitations = set(db.session.execute(text("SELECT xmin::text FROM invitation")).scalars())
    assert invitations == xmins["response"]


def test_after_the_close_nothing_sealed_remains_and_the_key_is_gone(app, forty, tmp_path):
    key_id = forty.answer_key_id
    before = db.session.scalars(
        db.select(Invitation.sealed_answers).where(Invitation.sealed_answers.is_not(None))
    ).all()
    assert len(before) == RATERS
    closed(forty)
    assert not (keys_dir() / f"{key_id}.key").exists()
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(Invitation)
            .where(Invitation.sealed_answers.is_not(None))
        )
        == 0
    )
    copy = database_bytes()
    for blob in before:  # nor in the write-ahead log or a freed page (secure_delete)
        assert blob[1:40] not in copy
    # The submitted words are stored now, cut from the invitation; the draft's never are.
    assert words_of(0).encode() in copy
    assert words_of(RATERS - 1).encode() not in copy


def test_a_backup_taken_before_the_close_cannot_be_read_after_it(app, forty, tmp_path):
    """Whoever keeps a backup from before the close, and the secret key and the instance
    folder as they are after it, still cannot open one answer."""
    sealed = [
        (i.id, i.sealed_answers)
        for i in db.session.scalars(db.select(Invitation).order_by(Invitation.id))
    ]
    closed(forty)
    for invitation_id, blob in sealed:
        with pytest.raises(AnswersUnreadable):
            unseal(forty.answer_key_id, invitation_id, blob)


def test_after_the_close_no_stored_answer_carries_a_date(app, forty):
    """Reminder dates and the mail queue stay on the invitations; an answer has no day of
    its own to be matched against them."""
    closed(forty)
    tables = inspect(db.engine)
    for table in ("response", "comment"):
        for column in tables.get_columns(table):
            assert not isinstance(column["type"], (sa_types.Date, sa_types.DateTime)), (
                table,
                column["name"],
            )


@pytest.mark.parametrize("app", DATABASES[:1], indirect=True)  # the log file is SQLite's
def test_the_sqlite_write_ahead_log_is_emptied_at_the_close(app, forty):
    cycle_id = forty.id
    db.session.remove()  # as a server between requests: no reader holds the log
    with whole_transactions():  # as the app and the command line run: BEGIN IMMEDIATE
        closed(db.session.get(Cycle, cycle_id))
    wal = Path(str(db.engine.url.database) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def store(group_sizes: dict[str, int], silent: int = 0) -> list[str]:
    """The labels stored at the close for one request whose raters in these groups answer
    (and `silent` more peers never do)."""
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    framework = request.cycle.framework
    for group, size in [*group_sizes.items(), ("peer", silent)]:
        for _ in range(size):
            n = len(request.invitations)
            if group == "line_manager":  # Sam's recorded manager, so no approval is needed
                on_staff_list([(f"Rater {n}", f"rater{n}@example.org")])
                request.subject.line_manager = person_by_email(f"rater{n}@example.org")
            nominate_colleague(request, f"Rater {n}", f"rater{n}@example.org", group)
    services.send_invitations(request)
    for n, invitation in enumerate(request.invitations[: len(request.invitations) - silent]):
        services.submit_rater_response(invitation, answers_of(framework, n))
    closed(request.cycle)
    return sorted(db.session.scalars(db.select(Response.group)))


@pytest.fixture
def one_request(app, make_person, framework):  # type: ignore[no-untyped-def]
    def make(**settings):  # type: ignore[no-untyped-def]
        cycle = create_cycle("Spring 2026", framework, min_raters=3, **settings)
        cycle.open()
        services.start_request(cycle, make_person("Sam Taylor", "sam@example.org"))
        db.session.commit()

    return make


def test_a_group_of_one_is_never_stored_under_its_own_name(app, one_request):
    one_request()
    labels = store({"peer": 3, "direct_report": 1})
    # The direct report's group is below k; the pool of one would be worked out as all
    # raters minus the peers, so the peers join it: everyone is stored pooled.
    assert labels == ["pooled"] * 4
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    assert request.response_counts == {"peer": 3, "direct_report": 1}


def test_groups_that_reach_k_keep_their_name(app, one_request):
    one_request()
    # The line manager and two others are pooled: three, enough to be shown as a pool.
    assert store({"peer": 4, "direct_report": 3, "other": 2, "line_manager": 1}) == (
        ["direct_report"] * 3 + ["peer"] * 4 + ["pooled"] * 3
    )


def test_answers_no_report_can_show_are_not_stored(app, one_request):
    one_request()
    assert store({"peer": 2}, silent=1) == []  # fewer than k answered: no rater scores, ever
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    assert request.response_counts == {"peer": 2}


def test_an_identifiable_manager_is_stored_as_shown_and_a_small_pool_is_not(app, one_request):
    one_request(manager_identifiable=True)
    # The manager is shown alone (their form said so); the other two can only ever be
    # pooled below k, and All raters minus the manager would give them away.
    assert store({"line_manager": 1, "peer": 1, "other": 1}) == ["line_manager"]


def test_the_answer_keys_live_in_the_instance_folder_unless_configured_elsewhere(
    app, tmp_path, monkeypatch
):
    assert keys_dir() == Path(app.instance_path) / "answer-keys"
    elsewhere = tmp_path / "elsewhere"
    with running_app(elsewhere, monkeypatch, database="sqlite", ANSWER_KEYS_DIR=str(elsewhere)):
        assert keys_dir() == elsewhere


@pytest.mark.parametrize("app", DATABASES[1:], indirect=True)  # row locks are PostgreSQL's
def test_an_answer_being_saved_as_the_cycle_closes_is_kept(app, forty):
    """A rater's submission under way when the administrator closes the cycle: the close
    waits for it and writes it out too, instead of losing it or deadlocking."""
    last = db.session.scalars(db.select(Invitation).order_by(Invitation.id.desc())).first()
    token = links.rater_token(last)
    db.session.commit()
    with whole_transactions():
        invitation = services.invitation_for_token(token, for_update=True)  # the rater's POST
        closing = threading.Thread(target=close_elsewhere, args=(app, forty.id))
        closing.start()
        poll_until(lambda: close_is_waiting(), timeout=30, what="the close waiting for the save")
        services.submit_rater_response(invitation, answers_of(forty.framework, RATERS - 1))
        db.session.commit()
    closing.join(timeout=60)
    assert not closing.is_alive()
    db.session.expire_all()
    assert sorted(rater_of_response().values()) == list(range(RATERS))  # the last one too
    sealed = select(Invitation.id).where(Invitation.sealed_answers.is_not(None))
    assert db.session.execute(sealed).first() is None


def close_elsewhere(app, cycle_id: int) -> None:  # type: ignore[no-untyped-def]
    """The administrator's close, in a request of its own."""
    with app.app_context(), whole_transactions():
        close_cycle(db.session.get(Cycle, cycle_id))
        db.session.commit()


def close_is_waiting() -> bool:
    with db.engine.connect() as connection:
        return bool(
            connection.exec_driver_sql(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).first()
        )


def test_workers_making_a_cycles_key_at_once_all_read_the_same_whole_key(app):
    """Under load several workers save a cycle's first answers together: each makes the key
    if it is missing and reads it straight after. None may read a key half written."""
    key_id = "0123456789abcdef0123456789abcdef"
    read: list[bytes | None] = []
    start = threading.Barrier(8)

    def worker() -> None:
        with app.app_context():
            start.wait()
            make_key(key_id)
            read.append((keys_dir() / f"{key_id}.key").read_bytes())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(read) == 8
    assert all(key == read[0] and len(key) == 32 for key in read), [len(k or b"") for k in read]
    assert [p.name for p in keys_dir().iterdir()] == [f"{key_id}.key"]  # no leftovers
