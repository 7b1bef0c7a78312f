"""Reports reach coaches and staff in the order the cycle sets: coaches first, or together."""

from __future__ import annotations

from datetime import date

import pytest

from feedback360.audit.models import AuditEntry
from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import FeedbackRequest
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.models import Report
from tests.conftest import csrf_token, nominate_colleague, outbox_messages, page_text, sign_in


def report_mails(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (m["To"], m["Subject"])
        for m in outbox_messages(app)
        if m["Subject"].endswith("feedback report is ready")
    ]


def built_cycle(open_cycle, make_person, framework, release_mode: str, *, build: bool = True):  # type: ignore[no-untyped-def]
    """Sam (coached by Cora) and Kim (no coach) each had five peers answer; the cycle closed."""
    cycle = open_cycle(release_mode=release_mode)
    cora = make_person("Cora Coach", "cora@example.org", is_coach=True)
    sam = make_person("Sam Taylor", "sam@example.org")
    sam.coach = cora
    kim = make_person("Kim Lee", "kim@example.org")
    every = Answers({s.id: 4 for s in framework.statements})
    for person in (sam, kim):
        request = services.start_request(cycle, person)
        for n in range(1, 6):
            nominate_colleague(request, f"Peer {n}", f"{person.id}-peer{n}@example.org", "peer")
        services.send_invitations(request)
        for invitation in request.invitations:
            services.submit_rater_response(invitation, every)
    close_cycle(cycle)
    db.session.commit()
    if build:
        build_cycle_reports(cycle)
        db.session.commit()
    return cycle, sam.id


@pytest.fixture
def browsers(app, make_person):
    """Signed-in browsers for the administrator, and (once created) Sam and Cora."""
    make_person("Ada Admin", "ada@example.org", is_admin=True)

    def signed_in(email: str):  # type: ignore[no-untyped-def]
        browser = app.test_client()
        sign_in(browser, email)
        return browser

    return signed_in


def confirm(admin, cycle: Cycle, action: str) -> str:  # type: ignore[no-untyped-def]
    page = admin.get(f"/admin/cycles/{cycle.id}/{action}")
    assert "This cannot be undone." in page.text
    done = admin.post(page.request.path, data={"csrf_token": csrf_token(page.text)})
    return page_text(admin.get(done.location).text)


def fresh(cycle: Cycle) -> Cycle:
    db.session.expire_all()
    return db.session.get_one(Cycle, cycle.id)


def request_id_of(subject_id: int) -> int:
    return db.session.scalars(db.select(FeedbackRequest.id).filter_by(subject_id=subject_id)).one()


def test_coaches_read_the_reports_before_staff(app, browsers, open_cycle, make_person, framework):
    cycle, sam_id = built_cycle(open_cycle, make_person, framework, "coach_first")
    admin, sam, cora = (browsers(f"{name}@example.org") for name in ("ada", "sam", "cora"))
    report = f"/reports/{request_id_of(sam_id)}/"
    coach_report = f"/coach/reports/{request_id_of(sam_id)}/"
    dashboard = page_text(admin.get(f"/admin/cycles/{cycle.id}").text)
    assert "Release to coaches" in dashboard
    assert "Release to staff" not in dashboard
    assert cora.get(coach_report).status_code != 200

    text = confirm(admin, cycle, "release-to-coaches")

    assert "The reports are released to coaches." in text
    assert (fresh(cycle).status, fresh(cycle).released_to_coaches) == ("closed", True)
    assert report_mails(app) == [("cora@example.org", "Sam Taylor's feedback report is ready")]
    assert cora.get(coach_report).status_code == 200
    assert sam.get(report).status_code == 404  # staff wait for their release
    assert "Release to staff" in text

    text = confirm(admin, cycle, "release-to-staff")

    assert "The reports are released to staff." in text
    assert (fresh(cycle).status, fresh(cycle).released_on) == ("released", date.today())
    assert sorted(report_mails(app)[1:]) == [
        ("kim@example.org", "Your feedback report is ready"),
        ("sam@example.org", "Your feedback report is ready"),
    ]
    assert sam.get(report).status_code == 200
    actions = db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("reports.release")] == [
        "reports.release_to_coaches",
        "reports.release",
    ]


def test_together_one_button_releases_to_coaches_and_staff(
    app, browsers, open_cycle, make_person, framework
):
    cycle, sam_id = built_cycle(open_cycle, make_person, framework, "together")
    admin, sam = browsers("ada@example.org"), browsers("sam@example.org")
    dashboard = page_text(admin.get(f"/admin/cycles/{cycle.id}").text)
    assert "Release to coaches" not in dashboard
    assert sam.get(f"/reports/{request_id_of(sam_id)}/").status_code == 404

    text = confirm(admin, cycle, "release")

    assert "The reports are released." in text
    cycle = fresh(cycle)
    assert (cycle.status, cycle.released_to_coaches) == ("released", True)
    assert sorted(report_mails(app)) == [
        ("cora@example.org", "Sam Taylor's feedback report is ready"),
        ("kim@example.org", "Your feedback report is ready"),
        ("sam@example.org", "Your feedback report is ready"),
    ]
    assert sam.get(f"/reports/{request_id_of(sam_id)}/").status_code == 200


def test_nothing_is_released_before_every_report_is_built(
    app, browsers, open_cycle, make_person, framework
):
    cycle, _ = built_cycle(open_cycle, make_person, framework, "together", build=False)
    admin = browsers("ada@example.org")
    assert "Release the reports" not in admin.get(f"/admin/cycles/{cycle.id}").text

    text = confirm(admin, cycle, "release")

    assert "2 reports are not built yet" in text
    assert fresh(cycle).status == "closed"
    assert report_mails(app) == []


def test_the_command_line_follows_the_same_order(app, runner, open_cycle, make_person, framework):
    cycle, _ = built_cycle(open_cycle, make_person, framework, "coach_first")

    early = runner.invoke(args=["cycle", "release", str(cycle.id)])
    assert early.exit_code == 1
    assert "release them to coaches before releasing them to staff" in early.output
    to_coaches = runner.invoke(args=["cycle", "release", str(cycle.id), "--to-coaches"])
    assert to_coaches.exit_code == 0, to_coaches.output
    assert "2 reports released to coaches" in to_coaches.output
    assert fresh(cycle).status == "closed"
    to_staff = runner.invoke(args=["cycle", "release", str(cycle.id)])
    assert to_staff.exit_code == 0, to_staff.output
    assert fresh(cycle).status == "released"
    assert len(report_mails(app)) == 3


def test_a_report_read_by_coaches_is_never_rebuilt(app, runner, open_cycle, make_person, framework):
    """Issue 13, point 6: once a coach may read a report it is final, as after release."""
    cycle, _ = built_cycle(open_cycle, make_person, framework, "coach_first")
    before = {report.request_id: report.pdf for report in db.session.scalars(db.select(Report))}
    assert runner.invoke(args=["cycle", "release", str(cycle.id), "--to-coaches"]).exit_code == 0

    rebuild = runner.invoke(args=["reports", "build", str(cycle.id), "--rebuild"])

    assert rebuild.exit_code == 1
    assert "a released report never changes" in rebuild.output
    db.session.expire_all()
    after = {report.request_id: report.pdf for report in db.session.scalars(db.select(Report))}
    assert after == before
