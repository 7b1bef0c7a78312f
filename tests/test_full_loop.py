"""The whole loop through HTTP: ask, self-assess, nominate, raters answer, close, build, read."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest, Response
from tests.conftest import (
    DATABASES,
    app_on,
    link_in,
    nominate_and_send,
    outbox_messages,
    sign_in,
    submit_form,
)

# Every rater gives the same score to all statements of a value, so each value's
# statements share a known mean: value 1 → 4.4, value 2 → 2.6, value 3 → 4.0, value 4 → 3.0.
RATER_SCORES = [
    [5, 3, 4, 1],
    [5, 3, 4, 2],
    [4, 2, 4, 3],
    [4, 2, 4, 4],
    [4, 3, 4, 5],
]
SELF_SCORE = 4
RATERS = [(f"Peer {n}", f"peer{n}@example.org") for n in range(1, 6)]


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch):
    """The loop runs on the embedded default and on the production database."""
    with app_on(request.param, tmp_path, monkeypatch) as app:
        yield app


def answers_for(framework, scores_by_value: list[int]) -> dict[str, str]:
    data = {}
    for value, score in zip(framework.values, scores_by_value, strict=True):
        for statement in value.statements:
            data[f"s{statement.id}"] = str(score)
    return data


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_staff_member_gets_a_report_of_their_raters_answers(
    app, client, runner, make_person, open_cycle, framework
):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle("Spring 2026")

    # Sam signs in and asks for feedback in the open cycle.
    assert sign_in(client, "sam@example.org").status_code == 302
    response = submit_form(client, "/", {}, action=f"/cycles/{cycle.id}/request")
    request_page = response.location
    assert request_page.startswith("/requests/")

    # Sam assesses themself: 4 ("Often") everywhere, with a note.
    self_page = f"{request_page}/self"
    response = submit_form(
        client,
        self_page,
        {**answers_for(framework, [SELF_SCORE] * 4), "action": "submit"},
    )
    assert response.status_code == 302
    assert "Done" in client.get(request_page).text

    # Sam nominates five peers and sends the invitations.
    nominate_and_send(client, request_page, [(name, email, "peer") for name, email in RATERS])
    page = client.get(request_page).text
    assert all(email in page for _, email in RATERS)
    invitations = outbox_messages(app)
    assert sorted(message["To"] for message in invitations) == sorted(e for _, e in RATERS)

    # Each rater follows the link in their email and submits, without signing in.
    rater = app.test_client()
    for message, scores in zip(invitations, RATER_SCORES, strict=True):
        link = link_in(message)
        landing = rater.get(link)
        assert "Sam Taylor has asked for your feedback" in landing.text
        data = answers_for(framework, scores)
        data[f"c{framework.values[0].id}"] = f"Comment from a rater scoring {scores[0]}"
        assert submit_form(rater, f"{link}/form", {**data, "action": "submit"}).location == (
            "/r/thanks"
        )

    # Sam sees how many responded, never who.
    page = client.get(request_page).text
    assert "<strong>5</strong> of your raters have responded" in page

    # The administrator closes the cycle, builds the reports and releases them.
    assert runner.invoke(args=["cycle", "close", "Spring 2026"]).exit_code == 0
    result = runner.invoke(args=["reports", "build", "Spring 2026"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["cycle", "release", str(cycle.id)]).exit_code == 0

    # Sam reads the report in the browser and downloads the PDF.
    request_id = int(request_page.rsplit("/", 1)[1])
    html = client.get(f"/reports/{request_id}/").text
    assert "Sam Taylor" in html
    download = client.get(f"/reports/{request_id}/report.pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert "sam-taylor-spring-2026" in download.headers["Content-Disposition"]
    text = pdf_text(download.data)
    for mean in ("4.4", "2.6", "4.0", "3.0"):
        assert mean in text
    assert "0.4 more often" in text  # value 1: raters 4.4 against self 4.0
    assert "1.4 less often" in text  # value 2: raters 2.6 against self 4.0
    assert "Comment from a rater scoring 5" in text
    assert "Peers" in text

    # Six responses are stored: self and five raters.
    feedback_request = db.session.get(FeedbackRequest, request_id)
    groups = sorted(
        r.group
        for r in db.session.scalars(db.select(Response).filter_by(request_id=feedback_request.id))
    )
    assert groups == ["peer"] * 5 + ["self"]
