"""The anonymity promise where it cannot be bypassed: in the schema and in built reports."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest, Invitation
from feedback360.reports.services import report_document
from tests.conftest import submit_form


def test_nothing_in_the_schema_links_an_answer_to_a_rater():
    tables = db.metadata.tables
    answer_tables = ("response", "comment")
    rater_tables = {"invitation", "person"}
    for name in answer_tables:
        referenced = {fk.column.table.name for fk in tables[name].foreign_keys}
        assert not referenced & rater_tables, f"{name} points at {referenced & rater_tables}"
    assert set(tables["response"].columns.keys()) == {"id", "request_id", "group", "scores"}
    # No date or time anywhere in an answer, and a response's id is random, not a sequence.
    for name in answer_tables:
        for column in tables[name].columns:
            assert column.type.python_type not in (date, datetime), f"{name}.{column.name}"
    assert tables["response"].columns["id"].autoincrement is not True
    invitation_targets = {fk.column.name for fk in tables["invitation"].foreign_keys}
    # Its request, and who nominated and approved the rater: never the rater's answers.
    assert {fk.parent.name for fk in tables["invitation"].foreign_keys} == {
        "request_id",
        "nominated_by_id",
        "approved_by_id",
    }
    assert invitation_targets == {"id"}
    # The invitation records only that it was submitted, never when, and its answers only
    # sealed, until the close.
    assert not [c for c in tables["invitation"].columns if "submitted" in c.name]
    assert "draft" not in tables["invitation"].columns
    assert tables["invitation"].columns["sealed_answers"].type.python_type is bytes


def answer_all(client, links, framework, scores):
    for link, score in zip(links, scores, strict=True):
        data = {f"s{s.id}": str(score) for s in framework.statements}
        submit_form(client, f"{link}/form", {**data, "action": "submit"})


def the_report(runner):
    runner.invoke(args=["cycle", "close", "Spring 2026"])
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    return report_document(request).result


def test_a_group_under_the_threshold_never_appears_on_its_own(invited, client, runner, framework):
    links = invited(["line_manager", "peer", "peer", "peer", "direct_report", "direct_report"])
    answer_all(client, list(links.values()), framework, [2, 4, 4, 4, 5, 5])
    result = the_report(runner)
    keys = [column.key for column in result.columns]
    assert "direct_report" not in keys
    assert "line_manager" not in keys  # not identifiable in this cycle
    assert keys == ["peer", "other_raters", "all_raters"]
    other = result.statements[0].cells["other_raters"]
    assert (other.n, other.mean) == (3, 4.0)  # manager's 2 and two direct reports' 5s, pooled


def test_all_raters_under_the_threshold_shows_no_scores(invited, client, runner, framework):
    links = invited(["peer"] * 5)
    answer_all(client, list(links.values())[:2], framework, [1, 5])
    result = the_report(runner)
    assert not result.rater_scores_shown
    assert "at least 3" in result.withheld_reason
    for statement in result.statements:
        assert all(key == "self" for key in statement.cells)
    assert not [c for c in result.comments if c.label != "Self"]


def test_an_identifiable_manager_is_shown_alone_and_told_so(invited, client, runner, framework):
    links = invited(["line_manager", "peer", "peer", "peer"], manager_identifiable=True)
    manager_link = links["rater1@example.org"]
    assert "shown on their own" in client.get(manager_link).text
    answer_all(client, list(links.values()), framework, [1, 3, 4, 5])
    result = the_report(runner)
    assert [c.key for c in result.columns] == ["line_manager", "peer", "all_raters"]
    assert result.statements[0].cells["line_manager"].mean == 1.0


@pytest.mark.parametrize("status", ["submitted", "declined"])
def test_the_subject_never_learns_who_responded(invited, app, client, framework, status):
    links = invited(["peer"] * 5)
    link = links["rater3@example.org"]
    if status == "submitted":
        answer_all(client, [link], framework, [4])
    else:
        submit_form(client, f"{link}/decline", {})
    subject = app.test_client()
    submit_form(
        subject, "/sign-in", {"email": "sam@example.org", "password": "correct horse battery"}
    )
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    page = subject.get(f"/requests/{request.id}").text
    assert page.count(">Sent<") == 5  # every invitation looks the same to the subject
    assert "declined" not in page.lower()
    invitation = db.session.scalars(
        db.select(Invitation).filter_by(email="rater3@example.org")
    ).one()
    db.session.refresh(invitation)
    assert invitation.status == status
