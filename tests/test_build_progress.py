"""The administrator starts the report build from the dashboard and follows its progress."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from feedback360.audit.models import AuditEntry
from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.models import Report
from tests.conftest import csrf_token, nominate_colleague, page_text, wait_for_the_build


@pytest.fixture
def closed_cycle(open_cycle, make_person, framework):
    """Sam had five peers answer; Kim asked nobody. Both get a report."""
    cycle = open_cycle()
    sam = services.start_request(cycle, make_person("Sam Taylor", "sam@example.org"))
    for n in range(1, 6):
        nominate_colleague(sam, f"Peer {n}", f"peer{n}@example.org", "peer")
    services.send_invitations(sam)
    for invitation in sam.invitations:
        services.submit_rater_response(invitation, Answers({s.id: 4 for s in framework.statements}))
    services.start_request(cycle, make_person("Kim Lee", "kim@example.org"))
    close_cycle(cycle)
    db.session.commit()
    return cycle


def test_the_build_runs_in_the_background_and_the_dashboard_follows_it(admin, closed_cycle):
    page = f"/admin/cycles/{closed_cycle.id}"
    before = page_text(admin.get(page).text)
    assert "0 of 2 reports built." in before
    assert "Release the reports" not in before

    started = admin.post(f"{page}/build", data={"csrf_token": csrf_token(admin.get(page).text)})

    assert started.location == page
    running = admin.get(page).text
    assert "The reports are being built." in page_text(running)
    assert "The build is running." in page_text(running)
    # The page never reloads itself: its script updates the status in place, and without
    # the script the administrator refreshes when she chooses.
    assert 'http-equiv="refresh"' not in running
    assert "build_status.js" in running
    assert f'<a href="{page}">Refresh</a> to see how far the build has got.' in running
    assert 'role="status" aria-live="polite" data-build-status-text' in running
    assert "Build reports" not in page_text(running)  # no second build while one runs

    text = wait_for_the_build(admin, page)

    assert "2 of 2 reports built. The last build has finished." in text
    assert "could not be built" not in text
    assert "Release the reports" in text
    assert "build_status.js" not in admin.get(page).text  # nothing left to follow
    status = page_text(admin.get(f"{page}/build-status").text)
    assert "2 of 2 reports built. The last build has finished." in status
    assert "Release the reports" in status
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(Report)) == 2
    cycle = db.session.get_one(Cycle, closed_cycle.id)
    assert cycle.build_finished_at is not None
    assert cycle.build_failures == []
    entry = db.session.scalars(db.select(AuditEntry).filter_by(action="reports.build")).one()
    assert entry.actor is not None
    assert entry.actor.email == "ada@example.org"


def test_a_build_on_the_command_line_shows_on_the_dashboard_too(admin, closed_cycle, runner):
    result = runner.invoke(args=["reports", "build", str(closed_cycle.id), "--workers", "1"])
    assert result.exit_code == 0, result.output

    text = page_text(admin.get(f"/admin/cycles/{closed_cycle.id}").text)

    assert "2 of 2 reports built. The last build has finished." in text
    assert "Build reports" not in text


def test_an_open_cycle_cannot_be_built(admin, open_cycle):
    cycle = open_cycle()
    page = f"/admin/cycles/{cycle.id}"

    response = admin.post(f"{page}/build", data={"csrf_token": csrf_token(admin.get(page).text)})

    assert "can be built only while it is closed" in page_text(admin.get(response.location).text)
    db.session.expire_all()
    assert db.session.get_one(Cycle, cycle.id).build_started_at is None


@pytest.fixture
def build_elsewhere() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing for a build started on another terminal."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    yield process
    process.kill()
    process.wait()


def test_no_second_build_starts_while_one_runs(admin, closed_cycle, runner, build_elsewhere):
    closed_cycle.build_started(build_elsewhere.pid)
    db.session.commit()
    page = f"/admin/cycles/{closed_cycle.id}"

    on_the_command_line = runner.invoke(args=["reports", "build", str(closed_cycle.id)])
    from_the_dashboard = admin.post(
        f"{page}/build", data={"csrf_token": csrf_token(admin.get(page).text)}
    )

    assert on_the_command_line.exit_code == 1
    assert "are being built already" in on_the_command_line.output
    text = page_text(admin.get(from_the_dashboard.location).text)
    assert "are being built already" in text
    assert "The build is running." in text
    assert db.session.scalar(db.select(db.func.count()).select_from(Report)) == 0

    build_elsewhere.kill()  # the other build dies before its end
    build_elsewhere.wait()
    text = page_text(admin.get(page).text)
    assert "The build stopped before it finished; start it again to build the rest." in text
    assert "Build reports" in text


def test_the_cycle_refuses_build_state_changes_out_of_turn(closed_cycle, open_cycle):
    with pytest.raises(DomainError, match="No build of the reports"):
        closed_cycle.build_finished()
    with pytest.raises(DomainError, match="No build of the reports"):
        closed_cycle.report_failed("Sam Taylor: the PDF could not be written")

    closed_cycle.build_started(os.getpid())
    closed_cycle.report_failed("Sam Taylor: the PDF could not be written")
    closed_cycle.build_finished()

    assert closed_cycle.build_has_finished
    assert closed_cycle.build_failures == ["Sam Taylor: the PDF could not be written"]
    with pytest.raises(DomainError, match="No build of the reports"):
        closed_cycle.build_finished()
    with pytest.raises(DomainError, match="can be built only while it is closed"):
        open_cycle("Autumn 2026").build_started(os.getpid())


def test_once_every_report_is_built_the_build_is_shown_finished(
    admin, closed_cycle, build_elsewhere
):
    # The build's process has kept its last report but not yet noted its end (its workers
    # are stopping): the dashboard must not say "2 of 2 built" and "running" at once.
    closed_cycle.build_started(build_elsewhere.pid)
    build_cycle_reports(closed_cycle)
    db.session.commit()

    text = page_text(admin.get(f"/admin/cycles/{closed_cycle.id}").text)

    assert "2 of 2 reports built. The last build has finished." in text
    assert "running" not in text
    assert "Release the reports" in text
