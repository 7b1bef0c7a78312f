"""A rater's journey by personal link, and what happens when things go wrong."""

from __future__ import annotations

from datetime import date

import pytest

from feedback360.extensions import db
from feedback360.feedback.models import Invitation, Response
from tests.conftest import csrf_token, page_text, submit_form


def all_answers(framework, score: str = "4") -> dict[str, str]:
    return {f"s{s.id}": score for s in framework.statements}


def test_rater_sees_whose_feedback_it_is_how_long_and_who_sees_what(invited, client):
    link = invited()["rater1@example.org"]
    page = page_text(client.get(link).text)
    assert "Sam Taylor has asked for your feedback" in page
    assert "It takes about 15 minutes: 46 short statements" in page
    assert "shown only when at least 3 people in it have answered" in page
    assert "never with your name" in page


def test_the_comment_box_says_how_the_report_labels_comments(invited, client):
    links = invited(["line_manager", "peer", "peer", "peer"], manager_identifiable=True)
    peer = page_text(client.get(f"{links['rater2@example.org']}/values/1").text)
    assert "never with your name, labelled with your group" in peer
    assert "otherwise “Other raters”" in peer
    # The identifiable line manager is told the truth: their comments carry their role.
    manager = page_text(client.get(f"{links['rater1@example.org']}/values/1").text)
    assert "labelled “Line manager”, so Sam will know they are yours" in manager
    assert "never with your name" not in manager
    start = page_text(client.get(links["rater1@example.org"]).text)
    assert "Your comments are shown word for word and labelled “Line manager”." in start


def test_a_wrong_link_gets_a_clear_page_not_an_error(client):
    response = client.get("/r/not-a-real-token")
    assert response.status_code == 404
    assert "This link is not valid" in response.text
    assert client.get("/r/" + "x" * 5000).status_code == 404


def test_rater_saves_part_and_finds_it_again_later(invited, client, framework):
    link = invited()["rater1@example.org"]
    first, second = framework.statements[:2]
    comment_field = f"c{framework.values[0].id}"
    submit_form(
        client,
        f"{link}/form",
        {
            f"s{first.id}": "5",
            f"s{second.id}": "na",
            comment_field: "Half-way thoughts",
            "action": "save",
        },
    )
    later = client.get(f"{link}/form").text
    assert f'name="s{first.id}" value="5" checked' in later
    assert f'name="s{second.id}" value="na" checked' in later
    assert "Half-way thoughts" in later
    assert "Continue" in client.get(link).text


def test_a_missing_rating_keeps_what_was_entered_and_says_which(invited, client, framework):
    link = invited()["rater1@example.org"]
    answers = all_answers(framework)
    missing = framework.statements[10]
    del answers[f"s{missing.id}"]
    answers[f"c{framework.values[1].id}"] = "Keep this comment"
    response = submit_form(client, f"{link}/form", {**answers, "action": "submit"})
    assert response.status_code == 400
    assert "1 statement still needs an answer" in response.text
    assert f'href="#s{missing.id}"' in response.text
    assert f'class="statement field-error" id="s{missing.id}"' in response.text
    assert "Keep this comment" in response.text
    kept = framework.statements[0]
    assert f'name="s{kept.id}" value="4" checked' in response.text
    assert db.session.scalar(db.select(db.func.count()).select_from(Response)) == 0


def test_submitting_twice_keeps_one_submission(invited, client, framework):
    link = invited()["rater1@example.org"]
    page = client.get(f"{link}/form").text
    data = {"csrf_token": csrf_token(page), **all_answers(framework), "action": "submit"}
    assert client.post(f"{link}/form", data=data).location == "/r/thanks"
    again = client.post(f"{link}/form", data=data)
    assert again.status_code == 410
    assert "Your feedback has already been sent" in again.text
    submitted = db.session.scalars(db.select(Invitation).filter_by(status="submitted")).all()
    assert [invitation.email for invitation in submitted] == ["rater1@example.org"]
    assert not db.session.scalars(db.select(Response)).all()  # responses come at the close


def test_a_used_link_gets_a_clear_page(invited, client, framework):
    link = invited()["rater1@example.org"]
    submit_form(client, f"{link}/form", {**all_answers(framework), "action": "submit"})
    response = client.get(link)
    assert response.status_code == 410
    assert "Your feedback has already been sent" in response.text


def test_rater_declines_and_their_draft_is_gone(invited, client, framework):
    link = invited()["rater2@example.org"]
    submit_form(client, f"{link}/form", {**all_answers(framework), "action": "save"})
    response = submit_form(client, f"{link}/decline", {})
    assert response.location == "/r/declined"
    invitation = db.session.scalar(db.select(Invitation).filter_by(email="rater2@example.org"))
    db.session.refresh(invitation)
    assert invitation.status == "declined"
    assert invitation.sealed_answers is None
    assert "You declined this request" in client.get(link).text


def test_out_of_range_and_unknown_answers_are_not_stored(invited, client, framework):
    link = invited()["rater1@example.org"]
    first = framework.statements[0]
    submit_form(
        client,
        f"{link}/form",
        {
            f"s{first.id}": "9",
            "s999999": "3",
            "action": "save",
        },
    )
    page = client.get(f"{link}/form").text
    assert f'name="s{first.id}" value="9"' not in page
    assert "checked" not in page


@pytest.mark.parametrize(
    ("path", "says"),
    # The rating form is shown again as posted (tests/test_session_time_outs.py).
    [("form", "Your answers are not saved yet"), ("decline", "The form had expired")],
)
def test_a_post_without_the_form_token_is_refused_kindly(invited, client, path, says):
    link = invited()["rater1@example.org"]
    response = client.post(f"{link}/{path}", data={"action": "submit"})
    assert response.status_code == 400
    assert says in response.text


def test_links_stop_working_when_the_cycle_closes(invited, client, runner):
    link = invited()["rater1@example.org"]
    runner.invoke(args=["cycle", "close", "Spring 2026"])
    response = client.get(link)
    assert response.status_code == 410
    assert "This feedback cycle has closed" in response.text


def test_every_unanswered_statement_is_marked_not_only_the_first(invited, client, framework):
    link = invited()["rater1@example.org"]
    answers = all_answers(framework)
    for statement in framework.statements[:3]:
        del answers[f"s{statement.id}"]
    response = submit_form(client, f"{link}/form", {**answers, "action": "submit"})
    assert "3 statements still need an answer" in response.text
    assert response.text.count('class="statement field-error"') == 3


def test_the_landing_page_gives_the_deadline_and_both_ways_to_answer(invited, client):
    link = invited(closes_on=date(2099, 1, 31))["rater1@example.org"]
    response = client.get(link)
    page = page_text(response.text)
    assert "Please answer by 31 January 2099." in page
    assert "one value at a time, with a summary to check before you submit" in page
    assert f'href="{link}/values/1"' in response.text
    assert f'href="{link}/form"' in response.text
