"""The audit log: every view and download of a report is recorded, and only admins read it."""

from __future__ import annotations

import re

import pytest

from feedback360.accounts.models import Person
from feedback360.audit.models import AuditEntry
from feedback360.audit.services import record
from feedback360.extensions import db
from feedback360.reports.models import Report
from tests.conftest import page_text, sign_in
from tests.test_organisation_page import OFFICER, TERRITORIAL, run_cycle
from tests.test_retention import release


@pytest.fixture
def report(framework) -> Report:
    """Person 1's report of a released cycle (threshold 2: one subject, two raters)."""
    cycle = run_cycle(framework, [(TERRITORIAL, OFFICER, 1, 4, 4)], threshold=2)
    release(cycle)
    person = db.session.scalars(db.select(Person).filter_by(email="person1@example.org")).one()
    person.set_password("person one's password")
    db.session.commit()
    return db.session.scalars(db.select(Report)).one()


def log_rows(html: str) -> list[str]:
    """The audit table's rows as text, newest first."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [page_text(row) for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def test_reading_and_downloading_a_report_shows_in_the_log(app, admin, report):
    subject = app.test_client()
    sign_in(subject, "person1@example.org", "person one's password")
    request_id = report.request_id

    assert subject.get(f"/reports/{request_id}/").status_code == 200
    assert subject.get(f"/reports/{request_id}/report.pdf").status_code == 200

    rows = log_rows(admin.get("/admin/audit").text)
    # The entry names the request, never the person, so an erasure leaves no name behind.
    whose = f"report {report.id} request {request_id}, read by them"
    assert rows[0].endswith(f"Person 1 Report downloaded {whose}")
    assert rows[1].endswith(f"Person 1 Report read {whose}")
    assert "Ada Admin" not in " ".join(rows[:2])  # looking at the log is not logged


def test_someone_elses_report_is_not_found_and_nothing_is_logged(app, make_person, report):
    make_person("Nosy Parker", "nosy@example.org")
    nosy = app.test_client()
    sign_in(nosy, "nosy@example.org")
    before = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry))
    assert nosy.get(f"/reports/{report.request_id}/report.pdf").status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)) == before


def test_the_log_filters_by_action_and_person_and_pages(app, admin, make_person):
    sam = make_person("Sam Taylor", "sam@example.org")
    for number in range(60):
        record("report.view", f"report {number}", "", actor=sam)
    record("cycle.open", "cycle 1", "Spring 2026", actor=sam)
    record("retention.apply", "cycle 2", "Deleted")  # no one signed in: the system
    db.session.commit()

    first = admin.get("/admin/audit")
    text = page_text(first.text)
    assert "62 entries; page 1 of 2" in text
    assert log_rows(first.text)[0].endswith(
        "The system Answers deleted at the end of the retention period cycle 2 Deleted"
    )
    older = admin.get("/admin/audit?page=2")
    assert len(log_rows(older.text)) == 12
    assert log_rows(older.text)[-1].endswith("Sam Taylor Report read report 0")
    assert f'<a href="/admin/people/{sam.id}">Sam Taylor</a>' in older.text
    assert "Newer entries" in older.text

    views = page_text(admin.get("/admin/audit?action=cycle.open").text)
    assert "1 entry" in views
    assert "Spring 2026" in views
    by_system = log_rows(admin.get("/admin/audit?actor=system").text)
    assert len(by_system) == 1
    by_sam = page_text(admin.get(f"/admin/audit?actor={sam.id}&action=report.view").text)
    assert "60 entries" in by_sam


def test_the_log_says_each_action_in_plain_words_and_names_people_alike(
    app, admin, make_person, open_cycle
):
    sam = make_person("Sam Taylor", "sam@example.org")
    ada = db.session.scalars(db.select(Person).filter_by(email="ada@example.org")).one()
    cycle = open_cycle("Spring 2026")
    record("person.deactivate", f"person {sam.id}", actor=ada)
    record("cycle.close", f"cycle {cycle.id}", actor=ada)
    record("widget.polish_all", "widget 3", actor=ada)  # a code the page has no words for yet
    db.session.commit()

    page = admin.get("/admin/audit").text
    rows = log_rows(page)

    assert rows[0].endswith("Ada Admin Widget polish all widget 3")
    assert rows[1].endswith("Ada Admin Cycle closed Spring 2026")
    assert rows[2].endswith("Ada Admin Account deactivated Sam Taylor")
    assert f'<a href="/admin/people/{sam.id}">Sam Taylor</a>' in page
    assert f'<a href="/admin/cycles/{cycle.id}">Spring 2026</a>' in page
    assert "person.deactivate" not in page_text(page)
    assert '<option value="person.deactivate">Account deactivated</option>' in page


@pytest.mark.parametrize(
    "query", ["?page=0", "?page=many", "?action=nonsense", "?actor=99999", "?page=999999999999"]
)
def test_odd_filters_are_explained_not_errors(admin, query):
    response = admin.get(f"/admin/audit{query}")
    assert response.status_code == 200
    if query != "?page=999999999999":
        assert "There is a problem" in response.text


def test_staff_may_not_read_the_log(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    staff = app.test_client()
    assert staff.get("/admin/audit").status_code == 302  # to sign in first
    sign_in(staff, "sam@example.org")
    assert staff.get("/admin/audit").status_code == 403


def test_the_admin_menu_links_the_log_and_the_summaries(admin):
    page = admin.get("/admin/")
    assert 'href="/admin/audit"' in page.text
    assert 'href="/admin/organisation"' in page.text
