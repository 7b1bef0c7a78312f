"""The mail queue: no message is lost when the mail server is down, and none is sent twice.

Every test runs against a real SMTP server on loopback (aiosmtpd), started only when the
story says the server is up; until then its port is closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, text, update

from feedback360.audit.models import AuditEntry
from feedback360.extensions import db
from feedback360.feedback import links, services
from feedback360.feedback.models import INVITED, Invitation
from feedback360.mailing.models import FAILED, PENDING, REPORT_READY, SENT, SKIPPED, QueuedMail
from feedback360.mailing.services import (
    FIRST_WAIT,
    MAX_ATTEMPTS,
    failed_mail,
    given_up,
    mail_counts,
    retry_failed,
)
from feedback360.reports import mails as report_mails
from feedback360.timeutil import utcnow
from tests.conftest import DATABASES, nominate_colleague, running_app
from tests.servers import Collector, free_port, smtp_server_on
from tests.test_mail import RATERS, invite_five_peers, links_in

StartServer = Callable[..., Controller]


class Refusing(Collector):
    """A mail server that takes the connection but refuses every message."""

    async def handle_DATA(self, server, session, envelope) -> str:
        return "554 Transaction failed: refused for this test"


@pytest.fixture
def mail_port() -> int:
    return free_port()


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch, mail_port) -> Iterator[Flask]:
    smtp = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": mail_port}
    with running_app(tmp_path, monkeypatch, database=request.param, **smtp) as app:
        yield app


@pytest.fixture
def start_server(mail_port) -> Iterator[StartServer]:
    """Bring the mail server up on the port the app was told to use."""
    with ExitStack() as stack:

        def start(handler: Collector | None = None) -> Controller:
            return stack.enter_context(smtp_server_on(mail_port, handler))

        yield start


def queued() -> list[QueuedMail]:
    """Every queued message as the database holds it now."""
    query = select(QueuedMail).order_by(QueuedMail.id).execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def time_passes(minutes: float) -> None:
    """Pretend the last attempts were made this long ago."""
    moment = utcnow() - timedelta(minutes=minutes)
    db.session.execute(update(QueuedMail).values(last_attempt_at=moment))
    db.session.commit()


def test_with_the_server_down_invitations_are_kept_and_sent_by_the_retry_command(
    app, client, runner, make_person, open_cycle, start_server
):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    other_cycle = open_cycle("Autumn 2026")

    # Sam sends five invitations while the mail server is down: the action still succeeds.
    invite_five_peers(client, cycle.id)

    invitations = db.session.scalars(select(Invitation)).all()
    assert [invitation.status for invitation in invitations] == [INVITED] * 5
    waiting = queued()
    assert [(mail.kind, mail.status, mail.attempts) for mail in waiting] == [
        ("invitation", FAILED, 1)
    ] * 5
    assert all("Connection refused" in mail.last_error for mail in waiting)
    assert failed_mail(cycle) == waiting
    assert mail_counts(cycle) == {PENDING: 0, SENT: 0, FAILED: 5, SKIPPED: 0}
    assert failed_mail(other_cycle) == []
    status = runner.invoke(args=["mail", "status"])
    assert "0 pending, 0 sent, 5 failed, 0 skipped" in status.output
    assert "invitation to peer1@example.org: 1 attempt, will retry" in status.output

    server = start_server()
    # Cron runs moments later: the messages wait before their next attempt.
    assert "Retried 0 messages" in runner.invoke(args=["mail", "retry"]).output
    assert server.handler.envelopes == []

    time_passes(minutes=5)
    result = runner.invoke(args=["mail", "retry"])

    assert result.exit_code == 0, result.output
    assert "Retried 5 messages: 5 sent, 0 failed, 0 no longer needed." in result.output
    envelopes = server.handler.envelopes
    assert sorted(e.rcpt_tos[0] for e in envelopes) == [email for _, email in RATERS]
    assert [(mail.status, mail.attempts, mail.last_error) for mail in queued()] == [
        (SENT, 2, "")
    ] * 5
    entry = db.session.scalars(select(AuditEntry).filter_by(action="mail.retry")).one()
    assert (entry.target, entry.detail) == ("all cycles", "5 messages")
    # The link made at the retry is the rater's own, and it works.
    text_link, html_link = links_in(message_from_bytes(envelopes[0].original_content))
    assert text_link == html_link
    landing = app.test_client().get(text_link.removeprefix("http://localhost"))
    assert landing.status_code == 200
    assert "Sam Taylor has asked for your feedback" in landing.text
    # Sent is sent: a later run sends nothing again.
    time_passes(minutes=60)
    assert "Retried 0 messages" in runner.invoke(args=["mail", "retry"]).output
    assert len(server.handler.envelopes) == 5


def test_a_server_that_refuses_the_message_is_recorded_too(
    app, client, make_person, open_cycle, start_server
):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    start_server(Refusing())

    invite_five_peers(client, cycle.id)

    for mail in queued():
        assert (mail.status, mail.attempts) == (FAILED, 1)
        assert mail.last_error.startswith("SMTPDataError: (554, b'Transaction failed")


def test_retries_wait_longer_each_time_then_stop_but_stay_visible(
    app, runner, make_person, open_cycle, start_server
):
    sam = make_person("Sam Taylor", "sam@example.org")
    request = services.start_request(open_cycle(), sam)
    report_mails.send_reports_ready([(request, sam)])
    db.session.commit()
    (mail,) = queued()
    assert (mail.status, mail.attempts) == (FAILED, 1)

    for attempt in range(2, MAX_ATTEMPTS + 1):
        wait = FIRST_WAIT * 2 ** (attempt - 2)  # 5, 10, 20, 40 minutes
        last = mail.last_attempt_at
        assert retry_failed(now=last + wait - timedelta(seconds=1)) == []
        assert retry_failed(now=last + wait) == [mail]
        db.session.commit()
        (mail,) = queued()
        assert (mail.status, mail.attempts) == (FAILED, attempt)

    # At the cap cron stops trying, however long it waits; the message stays listed.
    assert retry_failed(now=utcnow() + timedelta(days=30)) == []
    assert given_up(mail)
    assert failed_mail() == [mail]
    assert "1 failed" in runner.invoke(args=["mail", "status"]).output
    assert f"{MAX_ATTEMPTS} attempts, given up" in runner.invoke(args=["mail", "status"]).output

    # Once the server is mended, an administrator retries it by hand.
    server = start_server()
    assert "Retried 0 messages" in runner.invoke(args=["mail", "retry"]).output
    result = runner.invoke(args=["mail", "retry", "--now"])
    assert "Retried 1 message: 1 sent" in result.output
    (envelope,) = server.handler.envelopes
    assert envelope.rcpt_tos == ["sam@example.org"]
    assert queued()[0].status == SENT


def test_nothing_in_the_queue_holds_a_raters_token(
    app, client, make_person, open_cycle, start_server, tmp_path
):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    invite_five_peers(client, cycle.id)  # server down: the rows keep their errors
    server = start_server()
    time_passes(minutes=5)
    retry_failed()
    db.session.commit()
    assert len(server.handler.envelopes) == 5

    tokens = [links.rater_token(i) for i in db.session.scalars(select(Invitation))]
    delivered = "".join(e.original_content.decode() for e in server.handler.envelopes)
    assert all(token in delivered for token in tokens)  # the tokens are the real ones
    rows = db.session.execute(text("SELECT * FROM queued_mail")).all()
    assert len(rows) == 5
    stored = repr(rows)
    assert not any(token in stored for token in tokens)
    if db.engine.dialect.name == "sqlite":  # nor anywhere in the database file
        database = Path(tmp_path / "test.sqlite").read_bytes()
        assert not any(token.encode() in database for token in tokens)


def test_a_rolled_back_action_sends_nothing(app, make_person, open_cycle, start_server):
    server = start_server()
    sam = make_person("Sam Taylor", "sam@example.org")
    request = services.start_request(open_cycle(), sam)
    for name, email in RATERS:
        nominate_colleague(request, name, email, "peer")
    db.session.commit()

    services.send_invitations(request)
    db.session.rollback()
    make_person("Kim Lee", "kim@example.org")  # a later commit of something else

    assert server.handler.envelopes == []
    assert queued() == []
    assert {i.status for i in db.session.scalars(select(Invitation))} == {"nominated"}


def test_an_invitation_no_longer_needed_is_not_sent(
    app, client, runner, make_person, open_cycle, start_server
):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    invite_five_peers(client, cycle.id)  # server down
    assert runner.invoke(args=["cycle", "close", cycle.name]).exit_code == 0
    server = start_server()
    time_passes(minutes=5)

    result = runner.invoke(args=["mail", "retry"])

    assert "5 no longer needed" in result.output
    assert server.handler.envelopes == []
    assert {(m.status, m.last_error) for m in queued()} == {
        (SKIPPED, "Not needed: the cycle is no longer open")
    }


def test_a_message_left_pending_by_a_stopped_process_is_sent_later(
    app, runner, make_person, open_cycle, start_server
):
    sam = make_person("Sam Taylor", "sam@example.org")
    request = services.start_request(open_cycle(), sam)
    # Rows committed without delivery, as when a process stops between commit and send.
    for minutes_ago in (11, 1):
        created = utcnow() - timedelta(minutes=minutes_ago)
        db.session.add(
            QueuedMail(
                kind=REPORT_READY,
                to_address=sam.email,
                request=request,
                person=sam,
                created_at=created,
            )
        )
    db.session.commit()
    server = start_server()

    result = runner.invoke(args=["mail", "retry"])

    # The recent one may still be on its way from the process that queued it: left alone.
    assert "Retried 1 message: 1 sent" in result.output
    assert len(server.handler.envelopes) == 1
    assert [mail.status for mail in queued()] == [SENT, PENDING]
