"""A whole organisation's cycle rehearsed end to end through the real code, stage by stage.

Import the staff list as an import job; open a cycle; a feedback request for everyone, with
about eleven raters each from their own unit (line manager, direct reports, peers, others),
nominated and invited through the feedback services; answers, with "not seen" patterns,
generated in bulk and sealed as the rater form seals them; close; freeze; release; every
queued mail sent by the mail worker to an SMTP server on loopback; every PDF rendered by two
Celery workers; the organisation summary. Each stage prints its time, the peak memory so
far, and the counts it checked.

    .venv/bin/python benchmarks/rehearsal.py --database postgresql --people 47000
    .venv/bin/python benchmarks/rehearsal.py --database sqlite --people 5000
    .venv/bin/python benchmarks/rehearsal.py --people 300 --render 40     # a quick try

--render N renders only N PDFs (a sample; the time for all is then projected and marked so).
Needs Redis at 127.0.0.1:6379 for the Celery workers.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import random
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from celery_reports import start_worker  # noqa: E402
from flask import current_app  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from mail_worker import smtp_process  # noqa: E402
from sqlalchemy import bindparam, func, insert, select, update  # noqa: E402

from feedback360 import create_app  # noqa: E402
from feedback360.accounts.import_job_run import run_import_job  # noqa: E402
from feedback360.accounts.import_jobs import create_import_job  # noqa: E402
from feedback360.accounts.models import Person  # noqa: E402
from feedback360.closing import close_cycle  # noqa: E402
from feedback360.cycles.models import Cycle  # noqa: E402
from feedback360.cycles.services import create_cycle  # noqa: E402
from feedback360.extensions import db  # noqa: E402
from feedback360.feedback import services as feedback  # noqa: E402
from feedback360.feedback.answers import Answers  # noqa: E402
from feedback360.feedback.models import (  # noqa: E402
    INVITED,
    SUBMITTED,
    FeedbackRequest,
    Invitation,
    Response,
)
from feedback360.feedback.packed import pack_scores  # noqa: E402
from feedback360.feedback.sealing import make_key, seal  # noqa: E402
from feedback360.frameworks import services as frameworks  # noqa: E402
from feedback360.groups import DIRECT_REPORT, LINE_MANAGER, OTHER, PEER, SELF  # noqa: E402
from feedback360.mailing.models import SENT, QueuedMail  # noqa: E402
from feedback360.mailing.worker import run_worker  # noqa: E402
from feedback360.reports.building import render_reports  # noqa: E402
from feedback360.reports.cycle_summary import cycle_summary  # noqa: E402
from feedback360.reports.freezing import freeze_cycle  # noqa: E402
from feedback360.reports.models import Report  # noqa: E402
from feedback360.reports.services import release_reports  # noqa: E402
from tests.databases import postgres_database  # noqa: E402
from tests.redis_helpers import REDIS_URL  # noqa: E402
from tests.servers import free_port, stop_process_group  # noqa: E402

UNITS = 5
TEAM = 8  # direct reports per manager
RATERS = 11
ANSWERED = 0.9  # raters who submit; the rest never answer
SELF_ASSESSED = 0.9
NOT_SEEN = 0.08  # any one statement
VALUE_UNSEEN = 0.1  # raters who have seen nothing of one whole value
COMMIT_EVERY = 250


@dataclass
class Rehearsal:
    people: int
    started: float = field(default_factory=time.perf_counter)
    rows: list[tuple[str, float, float, str]] = field(default_factory=list)

    profile: str | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, str]]:
        """Time a stage; it fills in what it checked."""
        checked: dict[str, str] = {}
        profiler = cProfile.Profile() if self.profile and self.profile in name else None
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        yield checked
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        seconds = time.perf_counter() - began
        memory = peak_gib()
        self.rows.append((name, seconds, memory, checked.get("detail", "")))
        print(f"{name:<28} {seconds:9.1f} s  peak {memory:.2f} GiB  {checked.get('detail', '')}")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--render", type=int, default=None, help="PDFs to render (default all)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--profile", help="print a profile of the stages whose name has this")
    args = parser.parse_args()
    if args.people < UNITS * (RATERS + 1):  # each needs RATERS others in their unit
        parser.error(f"--people must be at least {UNITS * (RATERS + 1)}")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S')} {args.database}, {args.people:,} people; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(database(args.database, scratch))
        port = free_port()
        smtp = stack.enter_context(smtp_process(port))
        queue = f"rehearsal-{uuid.uuid4().hex[:8]}"
        app = make_app(url, scratch / "instance", port, queue)
        with app.app_context():
            rehearse(args, app, smtp, queue, scratch)
            db.session.remove()
            db.engine.dispose()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def rehearse(args: argparse.Namespace, app: Any, smtp: Any, queue: str, scratch: Path) -> None:
    run = Rehearsal(args.people, profile=args.profile)
    rng = np.random.default_rng(args.seed)
    with run.stage("schema and framework") as checked:
        upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))
        bundled = frameworks.read_framework_file(frameworks.bundled_framework("mps-2006"))
        framework, _ = frameworks.load_framework(bundled)
        db.session.commit()
        checked["detail"] = f"{len(framework.statements)} statements"
    with run.stage("import (job)") as checked:
        checked["detail"] = import_staff(args.people)
    with run.stage("open a cycle") as checked:
        cycle = create_cycle("Rehearsal", framework, min_raters=5, max_raters=15)
        cycle.open()
        db.session.commit()
        checked["detail"] = cycle.status
    with run.stage("requests and invitations") as checked:
        checked["detail"] = nominate_everyone(cycle, random.Random(args.seed))
    with run.stage("mail worker: invitations") as checked:
        checked["detail"] = send_all_mail(smtp)
    with run.stage("answers (bulk)") as checked:
        checked["detail"] = answer(cycle, rng)
    with run.stage("close") as checked:
        close_cycle(db.session.get_one(Cycle, cycle.id))
        db.session.commit()
        checked["detail"] = check_closed(cycle.id)
    closed_at = time.perf_counter()
    with run.stage("freeze") as checked:
        frozen = freeze_cycle(db.session.get_one(Cycle, cycle.id))
        db.session.commit()
        checked["detail"] = f"{frozen:,} reports frozen"
        assert frozen == args.people
    with run.stage("release") as checked:
        released = release_reports(db.session.get_one(Cycle, cycle.id))
        db.session.commit()
        after_close = time.perf_counter() - closed_at
        checked["detail"] = f"{released:,} released, {after_close:.0f} s after the close"
    with run.stage("mail worker: reports ready") as checked:
        checked["detail"] = send_all_mail(smtp)
    with run.stage("PDFs on Celery workers") as checked:
        checked["detail"] = render_pdfs(cycle.id, args, queue, scratch)
    with run.stage("organisation summary") as checked:
        summary = cycle_summary(db.session.get_one(Cycle, cycle.id))
        checked["detail"] = f"{len(summary.views)} views"
    total = time.perf_counter() - run.started
    print(f"{'whole rehearsal':<28} {total:9.1f} s  peak {peak_gib():.2f} GiB (this process)")


# ---------------------------------------------------------------- the stages


def import_staff(people: int) -> str:
    """A staff list of `people` in UNITS units, each a tree of teams of TEAM, imported by
    the import job as the admin page starts it (here in this process)."""
    data = staff_list(people)
    admin = Person(name="Rehearsal Admin", email="admin@example.org", is_admin=True)
    db.session.add(admin)
    db.session.commit()
    job = create_import_job(data, "staff.csv", full_list=False, acting=admin)
    db.session.commit()
    done = run_import_job(job.id)
    imported = db.session.scalar(select(func.count()).select_from(Person)) - 1
    queued = db.session.scalar(select(func.count()).select_from(QueuedMail))
    assert imported == people, (imported, done.state)
    return f"{imported:,} people, job {done.state}; {queued:,} mails queued"


def staff_list(people: int) -> bytes:
    text = io.StringIO()
    table = csv.writer(text)
    table.writerow(["name", "email", "staff type", "business unit", "line manager", "roles"])
    for n in range(people):
        unit, place = n % UNITS, n // UNITS  # place within the unit
        manager = None if place == 0 else (place - 1) // TEAM
        table.writerow(
            [
                f"Person {n}",
                email_of(n),
                "Police officer" if n % 3 else "Police staff",
                f"Unit {unit + 1}",
                "" if manager is None else email_of(manager * UNITS + unit),
                "",
            ]
        )
    return text.getvalue().encode()


def email_of(n: int) -> str:
    return f"person{n}@example.org"


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    email: str
    unit: str
    manager: int | None


def nominate_everyone(cycle: Cycle, rng: random.Random) -> str:
    """A request for everyone, with raters from their unit, invited through the services."""
    staff = [
        Member(*row)
        for row in db.session.execute(
            select(
                Person.id, Person.name, Person.email, Person.business_unit, Person.line_manager_id
            )
            .where(Person.email != "admin@example.org")
            .order_by(Person.id)
        )
    ]
    by_id = {member.id: member for member in staff}
    by_unit: dict[str, list[Member]] = {}
    reports: dict[int, list[Member]] = {}
    for member in staff:
        by_unit.setdefault(member.unit, []).append(member)
        if member.manager is not None:
            reports.setdefault(member.manager, []).append(member)
    invited = 0
    for count, member in enumerate(staff, start=1):
        chosen = raters_of(member, by_id, reports, by_unit[member.unit], rng)
        people = {
            person.id: person
            for person in db.session.scalars(
                select(Person).where(Person.id.in_([member.id] + [m.id for m, _ in chosen]))
            )
        }
        request = feedback.start_request(cycle, people[member.id])
        # As the subject ticking colleagues on the suggestions page does.
        feedback.nominate_people(request, [(people[rater.id], group) for rater, group in chosen])
        invited += feedback.send_invitations(request)
        if count % COMMIT_EVERY == 0:
            db.session.commit()
    db.session.commit()
    return f"{len(staff):,} requests, {invited:,} invited ({invited / len(staff):.1f} each)"


def raters_of(
    member: Member,
    by_id: dict[int, Member],
    reports: dict[int, list[Member]],
    unit: list[Member],
    rng: random.Random,
) -> list[tuple[Member, str]]:
    chosen: list[tuple[Member, str]] = []
    if member.manager is not None:
        chosen.append((by_id[member.manager], LINE_MANAGER))
        peers = [p for p in reports[member.manager] if p.id != member.id]
        chosen += [(p, PEER) for p in rng.sample(peers, min(4, len(peers)))]
    own = reports.get(member.id, [])
    chosen += [(p, DIRECT_REPORT) for p in rng.sample(own, min(3, len(own)))]
    taken = {p.id for p, _ in chosen} | {member.id}
    while len(chosen) < RATERS:
        other = rng.choice(unit)
        if other.id not in taken:
            taken.add(other.id)
            chosen.append((other, OTHER))
    return chosen


def answer(cycle: Cycle, rng: np.random.Generator) -> str:
    """Submitted answers, sealed as the rater form seals them, written in bulk; and the
    self-assessments, stored as the service stores them."""
    framework = cycle.framework
    statement_ids = [s.id for s in framework.statements]
    value_of = np.array([framework.values.index(s.value) for s in framework.statements])
    positive = np.array([s.positive for s in framework.statements])
    make_key(cycle.answer_key_id or "")
    invitations = db.session.execute(
        select(Invitation.id, Invitation.request_id)
        .join(FeedbackRequest)
        .where(FeedbackRequest.cycle_id == cycle.id, Invitation.status == INVITED)
    ).all()
    subject_effect: dict[int, float] = {}
    rows = []
    for invitation_id, request_id in invitations:
        if rng.random() >= ANSWERED:
            continue
        effect = subject_effect.setdefault(request_id, rng.normal(0, 0.4))
        scores = scores_for(rng, effect, positive, value_of, len(framework.values))
        draft = Answers(dict(zip(statement_ids, scores, strict=True))).to_draft()
        rows.append({"i": invitation_id, "sealed": seal(cycle.answer_key_id, invitation_id, draft)})
    for at in range(0, len(rows), 5000):
        db.session.connection().execute(
            update(Invitation.__table__)
            .where(Invitation.__table__.c.id == bindparam("i"))
            .values(status=SUBMITTED, sealed_answers=bindparam("sealed")),
            rows[at : at + 5000],
        )
    requests = (
        db.session.execute(select(FeedbackRequest.id).where(FeedbackRequest.cycle_id == cycle.id))
        .scalars()
        .all()
    )
    selves = [r for r in requests if rng.random() < SELF_ASSESSED]
    own = [
        {
            "request_id": request_id,
            "group": SELF,
            "scores": pack_scores(
                dict(zip(statement_ids, scores_for(rng, 0.3, positive, value_of, 0), strict=True)),
                statement_ids,
            ),
        }
        for request_id in selves
    ]
    if own:
        db.session.execute(insert(Response), own)
        db.session.execute(
            update(FeedbackRequest)
            .where(FeedbackRequest.id.in_(select(Response.request_id)))
            .values(self_assessed=True)
        )
    db.session.commit()
    return f"{len(rows):,} of {len(invitations):,} raters answered; {len(selves):,} self"


def scores_for(
    rng: np.random.Generator,
    effect: float,
    positive: np.ndarray,
    value_of: np.ndarray,
    values: int,
) -> list[int | None]:
    """One rater's scores: a statement effect, the subject's effect, noise; "not seen" for
    a few statements, and for a whole value now and then."""
    base = np.where(positive, 3.8, 1.8) + np.where(positive, effect, -effect)
    scores = np.clip(np.rint(base + rng.normal(0, 0.8, len(positive))), 1, 5).astype(int)
    unseen = rng.random(len(positive)) < NOT_SEEN
    if values and rng.random() < VALUE_UNSEEN:
        unseen |= value_of == rng.integers(values)
    return [None if gone else int(score) for score, gone in zip(scores, unseen, strict=True)]


def check_closed(cycle_id: int) -> str:
    """Every submitted answer and self-assessment counted once at the close."""
    counted = sum(
        sum(counts.values())
        for counts in db.session.scalars(
            select(FeedbackRequest.response_counts).filter_by(cycle_id=cycle_id)
        )
    )
    submitted = db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.status == SUBMITTED)
    )
    selves = db.session.scalar(
        select(func.count()).select_from(FeedbackRequest).filter_by(self_assessed=True)
    )
    stored = db.session.scalar(select(func.count()).select_from(Response))
    sealed = db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.sealed_answers.is_not(None))
    )
    assert counted == submitted + selves, (counted, submitted, selves)
    assert stored <= counted
    assert sealed == 0
    return f"{counted:,} answers counted once, {stored:,} stored, none sealed left"


def send_all_mail(smtp: Any) -> str:
    """The mail worker sends every queued message; the server received each exactly once."""
    queued = list(db.session.scalars(select(QueuedMail.to_address)))
    db.session.commit()
    began = time.perf_counter()
    outcomes = run_worker(threading.Event(), once=True)
    seconds = time.perf_counter() - began
    smtp.send("count")
    received, connections, _ = smtp.recv()
    statuses = Counter(db.session.scalars(select(QueuedMail.status)))
    assert statuses == {SENT: len(queued)}, statuses
    assert received == Counter(queued), "a message arrived twice, or not at all"
    rate = sum(outcomes.values()) / seconds if seconds else 0
    return (
        f"{len(queued):,} messages each received once ({sum(outcomes.values()):,} sent now, "
        f"{rate:.0f}/s, {connections} connection(s))"
    )


def render_pdfs(cycle_id: int, args: argparse.Namespace, queue: str, scratch: Path) -> str:
    """Two Celery workers render every frozen report (or a sample of --render)."""
    if args.render is not None:  # leave only a sample unrendered
        sample = select(Report.id).order_by(Report.id).limit(args.render).scalar_subquery()
        db.session.execute(
            update(Report).where(Report.id.not_in(sample)).values(html="(not rendered here)")
        )
        db.session.commit()
    with celery_workers(current_app, args.workers, scratch) as (log, worker):
        began = time.perf_counter()
        rendered = failed = 0
        for built in render_reports(db.session.get_one(Cycle, cycle_id)):
            rendered += built.report is not None
            failed += built.report is None
            db.session.commit()
        seconds = time.perf_counter() - began
        workers_peak = group_peak_gib(worker.pid)
    assert failed == 0, log.read_text()[-3000:]
    pdfs = db.session.scalars(select(Report.pdf).where(Report.pdf.is_not(None))).all()
    assert len(pdfs) == rendered
    assert all(pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") for pdf in pdfs)
    each = seconds / rendered if rendered else 0
    projected = (
        ""
        if args.render is None
        else (f"; all {args.people:,} would take {each * args.people / 3600:.2f} h (projected)")
    )
    return (
        f"{rendered:,} PDFs, {each:.2f} s each across {args.workers} workers, "
        f"Celery processes' peak {workers_peak:.2f} GiB each at most{projected}"
    )


# ---------------------------------------------------------------- the setting


@contextmanager
def database(kind: str, scratch: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{scratch / 'rehearsal.sqlite'}"
        return
    with postgres_database() as url:  # the tests' server, FEEDBACK360_TEST_POSTGRES_URL
        yield url


def make_app(url: str, instance: Path, port: int, queue: str) -> Any:
    os.environ["FEEDBACK360_INSTANCE_PATH"] = str(instance)
    return create_app(
        {
            "SECRET_KEY": "rehearsal",
            "SQLALCHEMY_DATABASE_URI": url,
            "BASE_URL": "http://127.0.0.1",
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
            # Mail queued during the stages waits for the mail worker: the tasks the
            # commits send to the broker wait for the Celery workers, which start only for
            # the PDFs and by then find every message sent.
            "CELERY_BROKER_URL": REDIS_URL,  # the tests' Redis, FEEDBACK360_TEST_REDIS_URL
            "CELERY_QUEUE": queue,
        }
    )


@contextmanager
def celery_workers(app: Any, processes: int, scratch: Path) -> Iterator[tuple[Path, Any]]:
    """`celery worker` with this app's configuration, as a deployment starts it, ready."""
    log_path = scratch / "celery.log"
    worker = start_worker(app, processes, log_path)
    try:
        yield log_path, worker
    finally:
        stop_process_group(worker)


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def group_peak_gib(group: int) -> float:
    """The largest peak memory (VmHWM) of any live process in the process group."""
    peaks = [0]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            stat = (status.parent / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != group:  # the fields after the name
                continue
            line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
        except (OSError, StopIteration):  # ended meanwhile, or a kernel thread
            continue
        peaks.append(int(line.split()[1]))  # kB
    return max(peaks) / 2**20


if __name__ == "__main__":
    main()
