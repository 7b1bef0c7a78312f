"""Mail in bulk (issue 18): a batch goes over one SMTP connection, no message is sent twice,
and every failure is retried.

One real SMTP server on loopback (aiosmtpd) serves the whole module; each test tells it
which addresses to refuse and when to drop the connection.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, update

from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.mailing.delivery import deliver
from feedback360.mailing.models import FAILED, PENDING, REPORT_READY, SENT, QueuedMail
from feedback360.mailing.worker import run_worker
from feedback360.timeutil import utcnow
from tests.conftest import (
    DATABASES,
    nominate_and_send,
    poll_until,
    running_app,
    sign_in,
    submit_form,
)
from tests.servers import Collector, smtp_server_on


class Recorder(Collector):
    """Keeps each message with the connection it came over; refuses the addresses in
    `refused`; ends the connection as the `drop_at`-th message starts, closing it (`drop`
    "close") or saying so with a 421 reply first, as a server limiting a session does."""

    def __init__(self) -> None:
        super().__init__()
        self.clear()

    def clear(self) -> None:
        self.envelopes = []
        self.connections: list[tuple[str, int]] = []  # the client's address and port
        self.refused: set[str] = set()
        self.drop_at: int | None = None
        self.drop = "close"
        self.started = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:  # type: ignore[no-untyped-def]
        self.started += 1
        if self.started == self.drop_at:
            if self.drop == "close":
                server.transport.close()
            return "421 4.3.2 Closing the connection for this test"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # type: ignore[no-untyped-def]
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.connections.append(session.peer)
        return await super().handle_DATA(server, session, envelope)

    def recipients(self) -> Counter[str]:
        return Counter(address for envelope in self.envelopes for address in envelope.rcpt_tos)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Controller]:
    with smtp_server_on(handler=Recorder()) as server:
        yield server


@pytest.fixture
def server(smtp_server: Controller) -> Recorder:
    smtp_server.handler.clear()
    return smtp_server.handler


@pytest.fixture
def app(request, tmp_path, monkeypatch, smtp_server) -> Iterator[Flask]:
    smtp = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port}
    database = getattr(request, "param", None)  # the suite's, unless the test names one
    with running_app(tmp_path, monkeypatch, database=database, **smtp) as app:
        yield app


@pytest.fixture
def queue(app, make_person, open_cycle):  # type: ignore[no-untyped-def]
    """Queue report-ready messages to readers 0 … n-1, committed but not sent yet."""

    def add(count: int) -> list[int]:
        sam = make_person("Sam Taylor", "sam@example.org")
        request = services.start_request(open_cycle(), sam)
        rows = [
            QueuedMail(kind=REPORT_READY, to_address=reader(n), request=request, person=sam)
            for n in range(count)
        ]
        db.session.add_all(rows)
        db.session.flush()
        ids = [row.id for row in rows]
        db.session.commit()
        return ids

    return add


def reader(n: int) -> str:
    return f"reader{n}@example.org"


def rows() -> list[tuple[str, int]]:
    """Each message's status and attempts, in the order queued."""
    query = select(QueuedMail).order_by(QueuedMail.id).execution_options(populate_existing=True)
    return [(mail.status, mail.attempts) for mail in db.session.scalars(query)]


def time_passes(minutes: float) -> None:
    """Pretend every attempt so far was made this long ago."""
    moment = utcnow() - timedelta(minutes=minutes)
    db.session.execute(update(QueuedMail).values(last_attempt_at=moment))
    db.session.commit()


def test_the_worker_sends_a_batch_over_one_connection_each_message_once(runner, server, queue):
    queue(300)

    result = runner.invoke(args=["mail", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "Tried 300 messages: 300 sent, 0 failed, 0 no longer needed." in result.output
    assert server.recipients() == Counter(reader(n) for n in range(300))
    assert len(set(server.connections)) == 1
    assert rows() == [(SENT, 1)] * 300
    # Nothing is due any more: a second run sends nothing.
    assert "No mail is due." in runner.invoke(args=["mail", "worker", "--once"]).output
    assert len(server.envelopes) == 300


def test_refused_messages_fail_and_the_retry_sends_each_once(runner, server, queue):
    ids = queue(40)
    server.refused = {reader(3), reader(17), reader(39)}

    outcomes = deliver(ids)

    assert outcomes == {SENT: 37, FAILED: 3}
    assert len(set(server.connections)) == 1  # a refusal does not end the session
    failed = db.session.scalars(select(QueuedMail).filter_by(status=FAILED)).all()
    assert sorted(mail.to_address for mail in failed) == sorted(server.refused)
    assert all("SMTPRecipientsRefused" in mail.last_error for mail in failed)

    server.refused = set()  # the mailboxes now exist
    time_passes(minutes=5)
    result = runner.invoke(args=["mail", "retry"])

    assert "Retried 3 messages: 3 sent, 0 failed" in result.output
    assert server.recipients() == Counter(reader(n) for n in range(40))
    assert sorted(rows()) == [(SENT, 1)] * 37 + [(SENT, 2)] * 3


@pytest.mark.parametrize("app", DATABASES, indirect=True)
def test_two_deliveries_of_the_same_messages_at_once_send_each_once(app, server, queue):
    ids = queue(150)
    start = threading.Barrier(2)
    outcomes: list[Counter[str]] = []

    def deliver_all(order: list[int]) -> None:
        with app.app_context():
            start.wait()
            outcomes.append(deliver(order))

    # One goes forwards, the other backwards: they must meet over the same messages.
    threads = [threading.Thread(target=deliver_all, args=(o,)) for o in (ids, ids[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert server.recipients() == Counter(reader(n) for n in range(150))
    assert sum(outcomes, Counter()) == {SENT: 150}
    assert rows() == [(SENT, 1)] * 150  # each claimed once


@pytest.mark.parametrize("drop", ["close", "421"])
def test_a_dropped_connection_is_opened_again_and_the_rest_are_sent_once(server, queue, drop):
    ids = queue(150)
    server.drop_at, server.drop = 120, drop  # as the 120th message starts: in the second chunk

    outcomes = deliver(ids)

    assert outcomes == {SENT: 150}
    assert server.recipients() == Counter(reader(n) for n in range(150))
    assert len(set(server.connections)) == 2
    assert rows() == [(SENT, 1)] * 150


def test_the_worker_leaves_a_message_being_sent_alone_until_it_is_stale(runner, server, queue):
    # Claimed by a process that is sending it now (or died doing so): pending, one attempt.
    ids = queue(2)
    db.session.execute(
        update(QueuedMail)
        .where(QueuedMail.id == ids[0])
        .values(attempts=1, last_attempt_at=utcnow(), status=PENDING)
    )
    db.session.commit()

    assert "Tried 1 message: 1 sent" in runner.invoke(args=["mail", "worker", "--once"]).output
    assert rows() == [(PENDING, 1), (SENT, 1)]
    assert deliver(ids) == {}  # nor does a direct delivery take it

    time_passes(minutes=10)  # its process is long gone
    assert "Tried 1 message: 1 sent" in runner.invoke(args=["mail", "worker", "--once"]).output
    assert rows() == [(SENT, 2), (SENT, 1)]
    assert server.recipients() == Counter(reader(n) for n in range(2))


def test_the_running_worker_stops_when_told_without_waiting_out_its_pause(app, server, queue):
    queue(3)
    stop = threading.Event()

    # Told to stop as its first round ends, it must not sit out its minute's pause.
    total = run_worker(stop, idle_wait=60, on_drained=lambda _done: stop.set())

    assert total == {SENT: 3}
    assert server.recipients() == Counter(reader(n) for n in range(3))


def test_a_page_queuing_more_than_the_limit_returns_and_a_worker_process_sends_them(
    app, server, make_person, open_cycle, caplog
):
    """Without Celery, a page that queues more mail than MAIL_IN_REQUEST_LIMIT (a release,
    a cycle's invitations) does not send it itself: a mail worker process started for it does."""
    app.config["MAIL_IN_REQUEST_LIMIT"] = 2
    raters = [(f"Rater {n}", f"rater{n}@example.org", "peer") for n in range(3)]
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle(min_raters=3)
    sam = app.test_client()
    sign_in(sam, "sam@example.org")
    request_page = submit_form(sam, "/", {}, action=f"/cycles/{cycle.id}/request").location
    caplog.set_level(logging.INFO, logger="feedback360.mailing.services")

    sent = nominate_and_send(sam, request_page, raters)

    assert sent.status_code == 302
    # The page came back before any message went: the worker's process is still starting
    # (it loads the whole app first, far longer than these two looks take).
    assert rows() == [(PENDING, 0)] * 3
    assert server.envelopes == []
    pid = int(re.search(r"3 messages left to a mail worker, process (\d+)", caplog.text)[1])
    poll_until(lambda: rows() == [(SENT, 1)] * 3, timeout=60, what="the worker's sending")
    assert server.recipients() == Counter(email for _, email, _ in raters)
    poll_until(lambda: not _alive(pid), timeout=60, what="the worker's process ending")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
