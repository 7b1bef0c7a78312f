"""Building a cycle's reports: the whole cycle is analysed together, and history carries on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedback360.closing import close_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.engine.printed import printed
from feedback360.reports.models import Report
from feedback360.reports.services import release_reports, report_document
from feedback360.wording import counted
from tests.conftest import nominate_colleague


def run_cycle(name, subject, framework, open_cycle, rater_score: int, others=()):
    """A closed cycle in which five peers rate every statement `rater_score` for the
    subject (self-assessed at 3), and for each of `others` (no self-assessment)."""
    cycle = open_cycle(name)
    first = None
    for person in (subject, *others):
        request = services.start_request(cycle, person)
        first = first or request
        if person is subject:
            services.submit_self_assessment(
                request, Answers({s.id: 3 for s in framework.statements})
            )
        prefix = f"{name.split()[0]}-{person.id}".lower()
        for n in range(5):
            nominate_colleague(request, f"Peer {n}", f"{prefix}-{n}@example.org", "peer")
        services.send_invitations(request)
        for invitation in request.invitations:
            services.submit_rater_response(
                invitation, Answers({s.id: rater_score for s in framework.statements})
            )
    close_cycle(cycle)
    db.session.commit()
    return cycle, first


def test_the_second_report_shows_the_change_since_the_first(make_person, framework, open_cycle):
    sam = make_person("Sam Taylor", "sam@example.org")
    first, _ = run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=3)
    build_cycle_reports(first)
    release_reports(first)
    db.session.commit()

    second, request = run_cycle("Autumn 2026", sam, framework, open_cycle, rater_score=4)
    values = report_document(request).result.values

    # "We will" statements rated 3 then 4 rise by 1; "We will not" ones, reverse-scored,
    # fall by 1: each value's score moves by its share of positive minus negative statements,
    # and the change is that of the scores as printed (one decimal: nothing finer is shown).
    for value, result in zip(framework.values, values, strict=True):
        positive = sum(s.positive for s in value.statements)
        moved = (positive - (len(value.statements) - positive)) / len(value.statements)
        assert result.change is not None
        assert result.change == pytest.approx(float(printed(3 + moved)) - 3.0)


def test_a_first_report_has_no_change_and_unreleased_history_is_ignored(
    make_person, framework, open_cycle
):
    sam = make_person("Sam Taylor", "sam@example.org")
    first, _ = run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=3)
    build_cycle_reports(first)  # built but never released
    db.session.commit()
    _, request = run_cycle("Autumn 2026", sam, framework, open_cycle, rater_score=4)
    assert all(value.change is None for value in report_document(request).result.values)


def test_a_build_started_again_does_only_what_is_left(
    make_person, framework, open_cycle, runner, tmp_path
):
    sam = make_person("Sam Taylor", "sam@example.org")
    kim = make_person("Kim Lee", "kim@example.org")
    run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=4, others=[kim])
    first = runner.invoke(args=["reports", "build", "Spring 2026", "--workers", "1"])
    assert "Built 2 reports." in first.output
    kept = db.session.scalars(db.select(Report).order_by(Report.id)).all()
    stamp = {r.request_id: r.built_at for r in kept}
    # An interruption before Kim's report was kept:
    db.session.delete(kept[1])
    db.session.commit()

    again = runner.invoke(args=["reports", "build", "Spring 2026", "--out", str(tmp_path / "out")])

    assert again.exit_code == 0, again.output
    assert "Built 1 report." in again.output
    assert "Wrote 2 PDFs" in again.output
    sam_report = db.session.scalars(db.select(Report).order_by(Report.id)).first()
    assert sam_report.built_at == stamp[sam_report.request_id]  # not redone
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [
        "kim-lee-spring-2026-feedback-report.pdf",
        "sam-taylor-spring-2026-feedback-report.pdf",
    ]  # no temporary file left behind
    assert all((tmp_path / "out" / f).read_bytes().startswith(b"%PDF") for f in files)


def test_rebuild_builds_every_report_again_in_parallel(make_person, framework, open_cycle, runner):
    sam = make_person("Sam Taylor", "sam@example.org")
    run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=4)
    runner.invoke(args=["reports", "build", "Spring 2026"])
    result = runner.invoke(args=["reports", "build", "Spring 2026", "--rebuild", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Built 1 report." in result.output


def test_a_build_killed_midway_finishes_on_the_next_run(
    app, make_person, framework, open_cycle, runner, tmp_path
):
    people = [make_person(f"Person {n}", f"person{n}@example.org") for n in range(4)]
    run_cycle("Spring 2026", people[0], framework, open_cycle, rater_score=4, others=people[1:])
    script = Path(sys.executable).parent / "feedback360"
    env = {
        **os.environ,
        "FEEDBACK360_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "FEEDBACK360_SECRET_KEY": "test",
    }
    build = subprocess.Popen(  # a real process, killed as a power cut would
        [str(script), "reports", "build", "Spring 2026", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while reports_kept() < 1 and time.monotonic() < deadline and build.poll() is None:
        time.sleep(0.05)
    build.kill()
    build.wait()
    finished = reports_kept()
    assert finished >= 1

    again = runner.invoke(args=["reports", "build", "Spring 2026", "--workers", "1"])

    assert again.exit_code == 0, again.output
    assert f"Built {counted(4 - finished, 'report')}." in again.output
    pdfs = db.session.scalars(db.select(Report.pdf)).all()
    assert len(pdfs) == 4
    assert all(pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF") for pdf in pdfs)


def reports_kept() -> int:
    """Reports rendered and kept (the build freezes every one first, then renders)."""
    db.session.rollback()  # see what other processes committed
    rendered = db.select(db.func.count()).select_from(Report).where(Report.pdf.is_not(None))
    return db.session.scalar(rendered)
