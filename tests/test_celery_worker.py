"""With a Celery broker configured, reports are built and mail is sent by a real worker.

A worker is started as a process of its own (`celery -A feedback360.tasks worker`, prefork
with two processes) on Redis at 127.0.0.1:6379, with a queue of its own that is emptied
afterwards. The administrator builds the reports from the dashboard, as without Celery;
releasing them queues the "report ready" mail, which the worker sends to a real SMTP server.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from pypdf import PdfReader

from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.services import start_request
from feedback360.mailing.models import REPORT_READY, SENT, QueuedMail
from feedback360.processes import command_environment
from feedback360.reports.freezing import freeze_cycle
from feedback360.reports.models import Report
from tests.conftest import (
    BUILD_TIMEOUT,
    DATABASES,
    csrf_token,
    outbox_messages,
    page_text,
    poll_until,
    running_app,
    wait_for_the_build,
)
from tests.databases import empty_database, postgres_database, sqlite_with_tables
from tests.redis_helpers import REDIS_URL, redis_key_prefix, require_redis
from tests.servers import children_of, free_port, smtp_server_on, stop_process_group
from tests.test_build_progress import closed_cycle  # noqa: F401  (a fixture)
from tests.test_mail import invite_five_peers

CELERY = Path(sys.executable).with_name("celery")
WORKER_START_TIMEOUT = 120  # seconds; the machine is shared
MAIL_TIMEOUT = 60


@dataclass(frozen=True)
class Site:
    """What a module's worker is started with and each of its tests runs on: a database, a
    queue of its own on Redis (so runs side by side never take each other's tasks) and a
    real SMTP server."""

    folder: Path
    database: str
    queue: str
    smtp: Controller

    @contextmanager
    def app(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
        with running_app(
            self.folder,
            monkeypatch,
            tables=False,
            SQLALCHEMY_DATABASE_URI=self.database,
            CELERY_BROKER_URL=REDIS_URL,
            CELERY_QUEUE=self.queue,
            MAIL_BACKEND="smtp",
            SMTP_HOST=self.smtp.hostname,
            SMTP_PORT=self.smtp.port,
        ) as app:
            yield app
            app.extensions["celery"].close()


@pytest.fixture(scope="module", params=DATABASES)
def site(request, tmp_path_factory) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    """One per module and database; skips without Redis (see redis_helpers)."""
    folder = tmp_path_factory.mktemp("celery")
    with ExitStack() as stack:
        queue = stack.enter_context(redis_key_prefix(require_redis()))
        if request.param == "sqlite":
            database = sqlite_with_tables(folder / "site.sqlite")
        else:
            database = stack.enter_context(postgres_database(tables=True))
        smtp = stack.enter_context(smtp_server_on())
        yield Site(folder, database, queue, smtp)


@pytest.fixture
def app(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The site as a new installation: no rows, no mail received, no task waiting."""
    empty_database(site.database)
    site.smtp.handler.envelopes.clear()
    with site.app(monkeypatch) as app:
        app.extensions["celery"].control.purge()
        yield app


@pytest.fixture
def smtp_server(site: Site) -> Controller:
    return site.smtp


@dataclass(frozen=True)
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path
    since: int = 0  # where the log stood when the test began

    def log(self) -> str:
        """What the worker has logged during this test."""
        with self.log_path.open("rb") as log:
            log.seek(self.since)
            return log.read().decode(errors="replace")


@pytest.fixture(scope="module")
def module_worker(site: Site) -> Iterator[Worker]:
    """A Celery worker with the site's configuration, as a deployment starts one; one per
    module (each costs seconds to start and stop), its queue purged before each test."""
    log_path = site.folder / "worker.log"
    command = [
        str(CELERY),
        "-A",
        "feedback360.tasks",
        "worker",
        "--pool=prefork",
        "--concurrency=2",
        "--loglevel=INFO",
        f"--hostname={site.queue}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    with pytest.MonkeyPatch.context() as monkeypatch, site.app(monkeypatch):
        environment = command_environment()  # as the dashboard's build process is given
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped whole below
        )
    try:
        _wait_until_ready(process, log_path)
        yield Worker(process, log_path)
    finally:
        stop_process_group(process)


@pytest.fixture
def worker(app: Flask, module_worker: Worker) -> Worker:
    return replace(module_worker, since=module_worker.log_path.stat().st_size)


def _wait_until_ready(process: subprocess.Popen[bytes], log_path: Path) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"The Celery worker stopped at start:\n{log_path.read_text()}")
        return " ready." in log_path.read_text(errors="replace")

    poll_until(ready, timeout=WORKER_START_TIMEOUT, what="the Celery worker's start")


def first_page_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_worker_builds_the_reports_and_sends_the_report_ready_mail(
    app,
    admin,
    closed_cycle,  # noqa: F811
    worker,
    smtp_server,
):
    page = f"/admin/cycles/{closed_cycle.id}"
    assert "0 of 2 reports built." in page_text(admin.get(page).text)

    admin.post(f"{page}/build", data={"csrf_token": csrf_token(admin.get(page).text)})
    text = wait_for_the_build(admin, page)

    assert "2 of 2 reports built. The last build has finished." in text, text
    assert "could not be built" not in text
    db.session.rollback()  # see the worker's commits
    reports = db.session.execute(
        db.select(FeedbackRequest, Report).join(Report, Report.request_id == FeedbackRequest.id)
    ).all()
    assert sorted(request.subject.name for request, _ in reports) == ["Kim Lee", "Sam Taylor"]
    for request, report in reports:
        assert report.pdf.startswith(b"%PDF-")
        assert request.subject.name in first_page_text(report.pdf)
        assert request.subject.name in report.html
    log = worker.log()
    assert "Task feedback360.render_reports[" in log
    assert "succeeded" in log

    release = f"{page}/release"
    admin.post(release, data={"csrf_token": csrf_token(admin.get(release).text)})

    ready = wait_for_mail(smtp_server, {"sam@example.org", "kim@example.org"})
    assert {envelope.rcpt_tos[0] for envelope in ready} == {"sam@example.org", "kim@example.org"}
    db.session.rollback()
    queued = db.session.scalars(db.select(QueuedMail).filter_by(kind=REPORT_READY)).all()
    assert [(mail.status, mail.attempts) for mail in queued] == [(SENT, 1), (SENT, 1)]
    assert "Task feedback360.deliver_mail[" in worker.log()
    assert db.session.get_one(Cycle, closed_cycle.id).status == "released"


def wait_for_mail(smtp: Controller, recipients: set[str]) -> list:
    """The "report ready" messages the SMTP server has been given, once all have arrived."""

    def ready() -> list | None:
        messages = [
            envelope
            for envelope in smtp.handler.envelopes
            if b"feedback report is ready" in envelope.content
        ]
        return messages if {m.rcpt_tos[0] for m in messages} >= recipients else None

    return poll_until(ready, timeout=MAIL_TIMEOUT, what="the report-ready mail")


def test_a_chunk_run_twice_renders_nothing_twice(app, closed_cycle, worker):  # noqa: F811
    """A redelivered task (its worker died after keeping some reports) skips what is kept."""
    celery = app.extensions["celery"]
    ids = sorted(db.session.scalars(db.select(FeedbackRequest.id)))

    def render() -> dict[int, datetime]:
        """Run the render task for both reports; when each report was rendered."""
        result = celery.send_task("feedback360.render_reports", args=[ids])
        try:
            assert result.get(timeout=BUILD_TIMEOUT) == [[ids[0], None], [ids[1], None]]
        finally:
            result.forget()
        db.session.rollback()  # see the worker's commits
        return {r.request_id: r.rendered_at for r in db.session.scalars(db.select(Report))}

    freeze_cycle(closed_cycle)
    db.session.commit()
    kept = render()
    assert render() == kept
    assert sorted(kept) == ids
    assert all(kept.values())

    # A rebuild freezes the reports afresh, and renders each again once.
    freeze_cycle(db.session.get_one(Cycle, closed_cycle.id), rebuild=True)
    db.session.commit()
    rebuilt = render()
    assert all(rebuilt[request_id] > kept[request_id] for request_id in ids)
    assert render() == rebuilt


class TestBrokerDown:
    """With the broker unreachable, no mail is lost and the build says why it cannot start."""

    @pytest.fixture
    def app(self, tmp_path, monkeypatch) -> Iterator[Flask]:
        nobody = f"redis://127.0.0.1:{free_port()}/0"
        with running_app(tmp_path, monkeypatch, CELERY_BROKER_URL=nobody) as app:
            yield app
            app.extensions["celery"].close()

    def test_mail_is_sent_from_the_web_process_instead(self, app, client, make_person, open_cycle):
        make_person("Sam Taylor", "sam@example.org")

        invite_five_peers(client, open_cycle().id)

        assert len(outbox_messages(app)) == 5
        assert set(db.session.scalars(db.select(QueuedMail.status))) == {SENT}

    def test_the_build_says_the_task_queue_cannot_be_reached(self, closed_cycle, runner):  # noqa: F811
        result = runner.invoke(args=["reports", "build", str(closed_cycle.id)])

        assert result.exit_code == 1
        assert "The task queue (CELERY_BROKER_URL) cannot be reached" in result.output
        # Frozen before the workers were asked for, so the reports can still be released.
        reports = db.session.scalars(db.select(Report)).all()
        assert len(reports) == 2
        assert not any(report.rendered for report in reports)


@pytest.fixture
def six_subjects(open_cycle, make_person) -> Cycle:
    """A closed cycle of six people, enough for a kill to land while some are still to build."""
    cycle = open_cycle()
    for n in range(1, 7):
        start_request(cycle, make_person(f"Person Number{n}", f"person{n}@example.org"))
    cycle.close()
    db.session.commit()
    return cycle


def test_a_killed_workers_reports_are_finished_by_another(app, six_subjects, worker, runner):
    ids = sorted(db.session.scalars(db.select(FeedbackRequest.id)))
    freeze_cycle(six_subjects)
    db.session.commit()
    celery = app.extensions["celery"]
    result = celery.send_task("feedback360.render_reports", args=[ids])

    poll_until(when_kept, timeout=BUILD_TIMEOUT, what="a report kept", every=0.05)
    killed = children_of(worker.process.pid)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)  # the processes doing the work die mid-task
    kept = when_kept()
    assert 1 <= len(kept) < len(ids), "the kill came too late to interrupt the render"

    # The task goes back to the queue and a new worker process finishes it.
    try:
        assert result.get(timeout=BUILD_TIMEOUT) == [[request_id, None] for request_id in ids]
    finally:
        result.forget()
    assert not set(children_of(worker.process.pid)) & set(killed)
    now_kept = when_kept()
    assert sorted(now_kept) == ids
    assert all(now_kept[request_id] == kept[request_id] for request_id in kept)  # not redone
    for report in db.session.scalars(db.select(Report)):
        assert report.request.subject.name in first_page_text(report.pdf)
    resumed = runner.invoke(args=["reports", "build", str(six_subjects.id)])
    assert resumed.exit_code == 0, resumed.output
    assert "Built 0 reports." in resumed.output


def when_kept() -> dict[int, datetime]:
    """When each rendered report was rendered, by request id, as the workers committed."""
    db.session.rollback()
    rendered = db.select(Report.request_id, Report.rendered_at).where(Report.html.is_not(None))
    return dict(db.session.execute(rendered).all())
