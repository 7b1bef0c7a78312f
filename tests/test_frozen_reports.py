"""A cycle's reports are frozen once, released at once, and rendered afterwards: by the
build's workers, or on the spot for a reader who comes first. Whenever and wherever a report
is rendered, it is the same report."""

from __future__ import annotations

from sqlalchemy import delete

from feedback360.extensions import db
from feedback360.feedback.models import Comment, Response
from feedback360.feedback.services import start_request
from feedback360.reports.build_steps import render_report
from feedback360.reports.freezing import freeze_cycle
from feedback360.reports.frozen import thaw_document
from feedback360.reports.models import Report
from feedback360.reports.services import release_reports, report_document, settings_for
from tests.conftest import page_text, sign_in
from tests.test_report_build import run_cycle


def frozen_cycle(make_person, framework, open_cycle, runner):  # type: ignore[no-untyped-def]
    sam = make_person("Sam Taylor", "sam@example.org")
    kim = make_person("Kim Lee", "kim@example.org")
    cycle, _ = run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=4, others=[kim])
    frozen = runner.invoke(args=["reports", "freeze", "Spring 2026"])
    assert frozen.exit_code == 0, frozen.output
    assert "Froze 2 reports; they can be released now." in frozen.output
    return cycle


def reports() -> list[Report]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Report).order_by(Report.request_id)))


def test_the_freeze_keeps_what_each_report_shows_and_renders_nothing(
    make_person, framework, open_cycle, runner, admin
):
    cycle = frozen_cycle(make_person, framework, open_cycle, runner)

    kept = reports()
    assert [report.request.subject.name for report in kept] == ["Sam Taylor", "Kim Lee"]
    for report in kept:
        assert report.html is None
        assert report.pdf is None
        # What the freeze kept is what an analysis of the cycle gives now.
        assert thaw_document(report.document) == report_document(report.request)
    # Frozen is enough to release: the dashboard offers it before any PDF is made.
    page = page_text(admin.get(f"/admin/cycles/{cycle.id}").text)
    assert "0 of 2 reports built." in page
    assert "they can be released now" in page
    assert "Release the reports" in page


def test_a_report_opened_before_the_workers_render_it_is_rendered_then_and_kept(
    app, make_person, framework, open_cycle, runner, client
):
    cycle = frozen_cycle(make_person, framework, open_cycle, runner)
    release_reports(cycle)
    db.session.commit()
    sams = reports()[0]
    sign_in(client, "sam@example.org")

    page = client.get(f"/reports/{sams.request_id}/")
    pdf = client.get(f"/reports/{sams.request_id}/report.pdf")

    assert page.status_code == 200
    assert "Sam" in page_text(page.text)
    assert pdf.data.startswith(b"%PDF-")
    sams, kims = reports()
    assert sams.html == page.text
    assert sams.pdf == pdf.data
    assert kims.html is None  # nobody asked for Kim's yet
    # The build's workers then render only what is left.
    built = runner.invoke(args=["reports", "build", "Spring 2026", "--workers", "1"])
    assert built.exit_code == 0, built.output
    assert "Built 1 report." in built.output


def test_a_report_is_the_same_whenever_and_wherever_it_is_rendered(
    make_person, framework, open_cycle, runner
):
    cycle = frozen_cycle(make_person, framework, open_cycle, runner)
    sams = reports()[0]
    in_this_process = render_report(thaw_document(sams.document), settings_for(cycle))
    # The responses are gone (as retention deletes them): rendering needs only the freeze.
    db.session.execute(delete(Comment))
    db.session.execute(delete(Response))
    db.session.commit()

    built = runner.invoke(args=["reports", "build", "Spring 2026", "--workers", "2"])

    assert built.exit_code == 0, built.output
    assert "Built 2 reports." in built.output
    sams = reports()[0]
    assert sams.html == in_this_process.html
    assert sams.pdf == in_this_process.pdf
    assert sams.coach_html == in_this_process.coach_html


def test_after_the_release_a_build_only_renders_and_never_changes_a_report(
    make_person, framework, open_cycle, runner
):
    cycle = frozen_cycle(make_person, framework, open_cycle, runner)
    release_reports(cycle)
    db.session.commit()
    documents = [report.document for report in reports()]

    rebuilt = runner.invoke(args=["reports", "build", "Spring 2026", "--rebuild"])
    built = runner.invoke(args=["reports", "build", "Spring 2026", "--workers", "1"])

    assert rebuilt.exit_code == 1
    assert "a released report never changes" in rebuilt.output
    assert built.exit_code == 0, built.output
    assert "Built 2 reports." in built.output
    assert [report.document for report in reports()] == documents
    assert all(report.pdf.startswith(b"%PDF-") for report in reports())


def test_a_freeze_shared_among_worker_processes_keeps_the_same_documents(
    make_person, framework, open_cycle
):
    people = [make_person(f"Person {n}", f"person{n}@example.org") for n in range(3)]
    cycle, _ = run_cycle("Spring 2026", people[0], framework, open_cycle, 4, others=people[1:])
    assert freeze_cycle(cycle) == 3
    alone = {report.request_id: report.document for report in reports()}

    assert freeze_cycle(cycle, rebuild=True, workers=2) == 3

    shared = {report.request_id: report.document for report in reports()}
    assert {r: thaw_document(d) for r, d in shared.items()} == {
        r: thaw_document(d) for r, d in alone.items()
    }


def test_closing_on_the_command_line_freezes_the_reports(make_person, open_cycle, runner):
    cycle = open_cycle()
    for n in range(2):
        start_request(cycle, make_person(f"Person {n}", f"person{n}@example.org"))
    db.session.commit()

    closed = runner.invoke(args=["cycle", "close", "Spring 2026"])

    assert closed.exit_code == 0, closed.output
    assert "is now closed." in closed.output
    assert "Froze 2 reports; they can be released now." in closed.output
    assert [report.html for report in reports()] == [None, None]
    assert all(report.document for report in reports())
