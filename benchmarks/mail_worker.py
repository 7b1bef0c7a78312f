"""The mail worker against a real SMTP server: messages per second, each arriving once.

Queues --messages invitations (ten raters to a subject, in one open cycle) in a scratch
SQLite file and, when the server answers, a scratch PostgreSQL database, then times
`feedback360 mail worker --once` (the same `run_worker` call) sending them all to an
aiosmtpd server on loopback. The server runs in a process of its own, so its work is not
counted against the worker's share of one interpreter; it counts what it receives and over
how many connections, and every message must have arrived exactly once.

    .venv/bin/python benchmarks/mail_worker.py [--messages 5000] [--runs 2]
        [--database sqlite|postgresql|both] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import resource
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402  (the test helpers below make PostgreSQL databases with it)
from sqlalchemy import func, insert, select, update  # noqa: E402

from feedback360 import create_app  # noqa: E402
from feedback360.accounts.models import Person  # noqa: E402
from feedback360.cycles.services import create_cycle  # noqa: E402
from feedback360.extensions import db  # noqa: E402
from feedback360.feedback.models import INVITED, FeedbackRequest, Invitation  # noqa: E402
from feedback360.frameworks import services as frameworks  # noqa: E402
from feedback360.mailing.models import INVITATION, PENDING, SENT, QueuedMail  # noqa: E402
from feedback360.mailing.worker import run_worker  # noqa: E402
from tests.conftest import postgres_database  # noqa: E402
from tests.servers import free_port  # noqa: E402

RATERS_PER_SUBJECT = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=2, help="timed runs on each database")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--profile", action="store_true", help="cProfile the worker's runs")
    args = parser.parse_args()

    port = free_port()
    with smtp_process(port) as server:
        for database in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
            with scratch_app(database, port) as app:
                if app is None:
                    print(f"{database}: PostgreSQL cannot be reached, skipped")
                    continue
                with app.app_context():
                    seed(args.messages)
                    for run in range(1, args.runs + 1):
                        requeue()
                        server.send("clear")
                        measure(f"{database} run {run}", args.messages, server, args.profile)
                    db.session.remove()
                    db.engine.dispose()


def measure(label: str, messages: int, server: Connection, profile: bool) -> None:
    """Time the worker sending every queued message, then check each arrived once."""
    # CPU time, not wall time: waits for the server and for a busy machine are left out.
    profiler = cProfile.Profile(time.process_time) if profile else None
    cpu_before = _cpu()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    outcomes = run_worker(threading.Event(), once=True)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    cpu = _cpu() - cpu_before
    server.send("count")
    received, connections, server_cpu = server.recv()
    statuses = Counter(db.session.scalars(select(QueuedMail.status)))
    addresses = list(db.session.scalars(select(QueuedMail.to_address)))
    once_each = received == Counter(addresses) and len(addresses) == messages
    print(
        f"{label}: {messages} messages in {wall:.2f} s = {messages / wall:.0f} messages/s; "
        f"CPU: worker {cpu:.2f} s, SMTP server {server_cpu:.2f} s; outcomes {dict(outcomes)}; "
        f"rows {dict(statuses)}; {connections} SMTP connection(s); "
        f"every message arrived exactly once: {once_each}"
    )
    if not once_each or statuses != {SENT: messages}:
        raise SystemExit(f"{label}: not every message arrived exactly once")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)


def seed(messages: int) -> None:
    """An open cycle with `messages` invited raters, ten to a subject, their mail queued."""
    bundled = frameworks.read_framework_file(frameworks.bundled_framework("mps-2006"))
    framework, _ = frameworks.load_framework(bundled)
    cycle = create_cycle("Mail load", framework, min_raters=RATERS_PER_SUBJECT)
    cycle.open()
    db.session.flush()
    subjects = -(-messages // RATERS_PER_SUBJECT)
    people = [{"name": f"Subject {n}", "email": f"subject{n}@example.org"} for n in range(subjects)]
    person_ids = db.session.scalars(insert(Person).returning(Person.id), people).all()
    requests = [{"cycle_id": cycle.id, "subject_id": person} for person in person_ids]
    request_ids = db.session.scalars(
        insert(FeedbackRequest).returning(FeedbackRequest.id), requests
    )
    raters = [
        {
            "request_id": request,
            "name": f"Rater {n}.{m}",
            "email": f"rater{n}.{m}@example.org",
            "group": "peer",
            "status": INVITED,
            "token_nonce": secrets.token_hex(16),
        }
        for n, request in enumerate(request_ids.all())
        for m in range(RATERS_PER_SUBJECT)
    ][:messages]
    invitations = db.session.execute(
        insert(Invitation).returning(Invitation.id, Invitation.request_id, Invitation.email), raters
    ).all()
    mail = [  # as feedback.mails.send_invitation queues them
        {"kind": INVITATION, "to_address": email, "invitation_id": i, "request_id": request}
        for i, request, email in invitations
    ]
    db.session.execute(insert(QueuedMail), mail)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(QueuedMail)) == messages


def requeue() -> None:
    """Every message back to never tried, as a cycle's opening leaves them."""
    db.session.execute(
        update(QueuedMail).values(
            status=PENDING, attempts=0, last_attempt_at=None, sent_at=None, last_error=""
        )
    )
    db.session.commit()


@contextmanager
def scratch_app(database: str, port: int) -> Any:
    """An app sending through the SMTP server on `port`, on an empty database of its own."""
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        instance = Path(scratch) / "instance"
        if database == "postgresql":
            try:
                url = stack.enter_context(postgres_database(tables=True))
            except pytest.skip.Exception:
                yield None
                return
        else:
            url = f"sqlite:///{Path(scratch) / 'mail.sqlite'}"
        settings = {
            "SECRET_KEY": "mail-benchmark",
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_OUTBOX_DIR": str(instance / "outbox"),
            "BASE_URL": "http://127.0.0.1",
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
        }
        with pytest.MonkeyPatch.context() as env:
            env.setenv("FEEDBACK360_INSTANCE_PATH", str(instance))
            app = create_app(settings)
        if database == "sqlite":
            with app.app_context():
                db.create_all()
        yield app


@contextmanager
def smtp_process(port: int) -> Any:
    """An aiosmtpd server in a process of its own; the pipe asks it what it has received."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, theirs))
    process.start()
    try:
        ours.recv()  # listening
        yield ours
    finally:
        ours.send("stop")
        process.join(timeout=10)


class _Counting:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.connections: set[tuple[str, int]] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.update(envelope.rcpt_tos)
        self.connections.add(session.peer)
        return "250 Message accepted for delivery"


def _serve(port: int, pipe: Connection) -> None:
    from aiosmtpd.controller import Controller

    handler = _Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    pipe.send("ready")
    cpu_before = _cpu()
    while (command := pipe.recv()) != "stop":
        if command == "count":
            pipe.send((handler.received, len(handler.connections), _cpu() - cpu_before))
        else:  # clear
            handler.received, handler.connections = Counter(), set()
            cpu_before = _cpu()
    controller.stop()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
