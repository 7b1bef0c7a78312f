"""Rule 8: once a report is released its responses are final and the report never changes."""

from __future__ import annotations

import pytest

from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import FeedbackRequest, Invitation, Response
from feedback360.reports.models import Report
from tests.conftest import csrf_token, submit_form


def answers(framework, score: int) -> dict[str, str]:
    return {f"s{s.id}": str(score) for s in framework.statements}


def close_build_release(runner) -> None:
    for step in (
        ["cycle", "close", "Spring 2026"],
        ["reports", "build", "Spring 2026"],
        ["cycle", "release", "Spring 2026"],
    ):
        result = runner.invoke(args=step)
        assert result.exit_code == 0, result.output


@pytest.fixture
def released(invited, client, runner, framework):
    """Four of five raters answered; the cycle closed and its reports were released."""
    links = invited(["peer"] * 5)
    for link in list(links.values())[:4]:
        submit_form(client, f"{link}/form", {**answers(framework, 4), "action": "submit"})
    close_build_release(runner)
    report = db.session.scalars(db.select(Report)).one()
    return links, report.pdf, report.html


def stored_responses() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Response))


def test_a_late_rater_cannot_add_a_response(invited, client, runner, framework):
    links = invited(["peer"] * 5)
    for link in list(links.values())[:4]:
        submit_form(client, f"{link}/form", {**answers(framework, 4), "action": "submit"})
    late = links["rater5@example.org"]
    token = csrf_token(client.get(f"{late}/form").text)  # a tab left open before the close
    close_build_release(runner)
    before = stored_responses()

    response = client.post(
        f"{late}/form", data={"csrf_token": token, **answers(framework, 1), "action": "submit"}
    )

    assert response.status_code == 410
    assert "This feedback cycle has closed" in response.text
    invitation = db.session.scalars(
        db.select(Invitation).filter_by(email="rater5@example.org")
    ).one()
    with pytest.raises(DomainError):
        services.submit_rater_response(invitation, Answers({s.id: 1 for s in framework.statements}))
    db.session.rollback()
    assert stored_responses() == before


def test_the_report_cannot_be_rebuilt_or_the_cycle_reopened(released, runner):
    _, pdf, html = released
    rebuild = runner.invoke(args=["reports", "build", "Spring 2026", "--rebuild"])
    assert rebuild.exit_code == 1
    assert "a released report never changes" in rebuild.output
    # After the release a build only renders what is not rendered yet: here nothing.
    build = runner.invoke(args=["reports", "build", "Spring 2026"])
    assert build.exit_code == 0, build.output
    assert "Built 0 reports." in build.output
    reopen = runner.invoke(args=["cycle", "open", "Spring 2026"])
    assert reopen.exit_code == 1
    report = db.session.scalars(db.select(Report)).one()
    db.session.refresh(report)
    assert (report.pdf, report.html) == (pdf, html)


def test_the_subject_cannot_change_their_self_assessment_after_release(released, app, framework):
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    with pytest.raises(DomainError, match="closed"):
        services.save_self_draft(request, Answers({s.id: 5 for s in framework.statements}))
