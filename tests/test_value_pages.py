"""The rating form one value per page: saving as the rater moves, a summary, then submission."""

from __future__ import annotations

import time

from feedback360.extensions import db
from feedback360.feedback.models import SUBMITTED, FeedbackRequest, Invitation, Response
from feedback360.feedback.services import rater_draft
from tests.conftest import csrf_token, page_text, sign_in, submit_form


def answers_for(value, score: str = "4") -> dict[str, str]:
    return {f"s{s.id}": score for s in value.statements}


def walk_every_value(client, link: str, framework, score: str = "4") -> None:
    """Answer each value's page in turn and press Next, as a rater without JavaScript would."""
    for number, value in enumerate(framework.values, start=1):
        page = f"{link}/values/{number}"
        submit_form(client, page, {**answers_for(value, score), "action": "next"})


def draft_of(email: str) -> dict:
    invitation = db.session.scalar(db.select(Invitation).filter_by(email=email))
    db.session.refresh(invitation)
    return rater_draft(invitation) or {}


def responses() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Response))


def submissions() -> int:
    """Rater answers submitted and sealed with their invitation, waiting for the close."""
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(Invitation)
        .where(Invitation.status == SUBMITTED, Invitation.sealed_answers.is_not(None))
    )


def test_the_start_button_opens_the_first_value_and_says_how_far_along(invited, client, framework):
    link = invited()["rater1@example.org"]
    start = client.get(link).text
    assert f'href="{link}/values/1"' in start
    assert f'href="{link}/form"' in start  # all values on one page, for those who prefer it
    page = page_text(client.get(f"{link}/values/1").text)
    first = framework.values[0]
    assert f"Value 1 of {len(framework.values)} {first.title}" in page
    assert f"0 of {len(framework.statements)} statements answered" in page
    assert "Show all values on one page" in page


def test_next_saves_the_page_and_coming_back_shows_the_answers(invited, client, framework):
    link = invited()["rater1@example.org"]
    first, second = framework.values[:2]
    statement = first.statements[0]
    response = submit_form(
        client,
        f"{link}/values/1",
        {f"s{statement.id}": "na", f"c{first.id}": "Kind to everyone", "action": "next"},
    )
    assert response.location == f"{link}/values/2?saved=1"
    page = client.get(response.location).text
    assert f"Value 2 of {len(framework.values)}" in page_text(page)
    assert "1 of 46 statements answered" in page_text(page)
    # Going back (which saves page 2's answers too) shows what was chosen and typed.
    back = submit_form(
        client, f"{link}/values/2", {**answers_for(second, "5"), "action": "previous"}
    )
    assert back.location == f"{link}/values/1?saved=1"
    page = client.get(back.location).text
    assert f'name="s{statement.id}" value="na" checked' in page
    assert "Kind to everyone" in page
    assert draft_of("rater1@example.org")["ratings"][str(second.statements[0].id)] == 5


def test_a_page_replaces_only_its_own_answers(invited, client, framework):
    link = invited()["rater1@example.org"]
    first, second = framework.values[:2]
    submit_form(client, f"{link}/values/1", {**answers_for(first, "2"), "action": "next"})
    submit_form(client, f"{link}/values/2", {f"c{second.id}": "Fine", "action": "save"})
    draft = draft_of("rater1@example.org")
    assert all(draft["ratings"][str(s.id)] == 2 for s in first.statements)
    assert draft["comments"] == {str(second.id): "Fine"}
    # Clearing a comment on its page removes it from the draft.
    submit_form(client, f"{link}/values/2", {f"c{second.id}": "", "action": "save"})
    assert draft_of("rater1@example.org")["comments"] == {}


def test_the_list_of_values_jumps_to_any_of_them_after_saving(invited, client, framework):
    link = invited()["rater1@example.org"]
    third = framework.values[2]
    page = client.get(f"{link}/values/3").text
    for number, value in enumerate(framework.values, start=1):
        assert f'value="value-{number}"' in page
        assert value.title in page
    assert 'aria-current="step"' in page
    response = submit_form(client, f"{link}/values/3", {**answers_for(third), "action": "value-1"})
    assert response.location == f"{link}/values/1?saved=1"
    assert f"{len(third.statements)} of {len(third.statements)} answered" in page_text(
        client.get(response.location).text
    )


def test_the_last_value_leads_to_a_summary_with_missing_answers_linked(invited, client, framework):
    link = invited()["rater1@example.org"]
    gap = framework.values[1].statements[3]
    for number, value in enumerate(framework.values, start=1):
        answers = answers_for(value)
        answers.pop(f"s{gap.id}", None)
        answers[f"c{value.id}"] = "Always fair" if number == 2 else ""
        response = submit_form(client, f"{link}/values/{number}", {**answers, "action": "next"})
    assert response.location == f"{link}/summary"
    summary = client.get(f"{link}/summary")
    text = page_text(summary.text)
    assert "Check your answers before you submit" in text
    assert "Still to answer: 1" in text
    assert f'href="{link}/values/2?check=1#s{gap.id}"' in summary.text
    assert "Always fair" in text
    # Following the link, the unanswered statement is marked in words, not colour alone.
    fix = client.get(f"{link}/values/2?check=1").text
    assert f'class="statement field-error" id="s{gap.id}"' in fix
    assert fix.count("field-error") == 1
    assert "Choose a rating or “Not seen / can’t say”" in fix
    assert text.count("No comment.") == len(framework.values) - 1


def test_a_page_posted_without_its_ratings_keeps_the_saved_ones(invited, client, framework):
    """A stale tab or a half-sent post cannot wipe answers: radios can only be changed."""
    link = invited()["rater1@example.org"]
    first = framework.values[0]
    submit_form(client, f"{link}/values/1", {**answers_for(first, "2"), "action": "save"})
    submit_form(client, f"{link}/values/1", {"action": "next"})
    ratings = draft_of("rater1@example.org")["ratings"]
    assert all(ratings[str(s.id)] == 2 for s in first.statements)


def test_submitting_with_gaps_is_refused_with_each_one_linked(invited, client, framework):
    link = invited()["rater1@example.org"]
    submit_form(client, f"{link}/values/1", {**answers_for(framework.values[0]), "action": "next"})
    response = submit_form(client, f"{link}/summary", {"action": "submit"})
    assert response.status_code == 400
    missing = [s for v in framework.values[1:] for s in v.statements]
    assert f"{len(missing)} statements still need an answer" in response.text
    assert 'class="error-summary"' in response.text
    for statement in missing:
        assert f"#s{statement.id}" in response.text
    assert submissions() == 0


def test_walking_every_value_then_submitting_stores_one_response(invited, client, framework):
    link = invited()["rater1@example.org"]
    walk_every_value(client, link, framework, score="3")
    page = client.get(f"{link}/summary").text
    data = {"csrf_token": csrf_token(page), "action": "submit"}
    assert client.post(f"{link}/summary", data=data).location == "/r/thanks"
    # A second press, or a second tab, stores nothing more and meets a clear page.
    again = client.post(f"{link}/summary", data=data)
    assert again.status_code == 410
    assert submissions() == 1
    assert responses() == 0  # answers become responses only at the close (rule 6)
    invitation = db.session.scalar(db.select(Invitation).filter_by(email="rater1@example.org"))
    db.session.refresh(invitation)
    assert invitation.status == "submitted"
    assert rater_draft(invitation) == {
        "ratings": {str(s.id): 3 for s in framework.statements},
        "comments": {},
    }


def test_autosave_stores_the_draft_and_answers_without_a_page(invited, client, framework):
    link = invited()["rater1@example.org"]
    value = framework.values[0]
    statement = value.statements[0]
    token = csrf_token(client.get(f"{link}/values/1").text)
    began = time.monotonic()
    response = client.post(
        f"{link}/values/1",
        data={"csrf_token": token, f"s{statement.id}": "5", "action": "autosave"},
    )
    assert time.monotonic() - began < 1
    assert response.status_code == 204
    assert response.data == b""
    assert draft_of("rater1@example.org")["ratings"] == {str(statement.id): 5}


def test_autosave_says_why_it_refused(invited, client, framework):
    link = invited()["rater1@example.org"]
    value = framework.values[0]
    token = csrf_token(client.get(f"{link}/values/1").text)
    response = client.post(
        f"{link}/values/1",
        data={"csrf_token": token, f"c{value.id}": "x" * 5001, "action": "autosave"},
    )
    assert response.status_code == 400
    assert "shorten this comment" in response.get_json()["error"]
    assert draft_of("rater1@example.org") == {}


def test_the_page_loads_the_autosave_script_and_has_a_live_region(invited, client):
    link = invited()["rater1@example.org"]
    page = client.get(f"{link}/values/1").text
    assert "/static/rating.js" in page
    assert 'aria-live="polite"' in page
    assert "<script>" not in page  # no inline script
    with client.get("/static/rating.js") as script:
        assert script.status_code == 200
        assert "autosave" in script.text


def test_not_seen_sits_in_the_same_radio_group_as_the_scale(invited, client, framework):
    link = invited()["rater1@example.org"]
    page = client.get(f"{link}/values/1").text
    statement = framework.values[0].statements[0]
    assert page.count(f'name="s{statement.id}"') == len(framework.scale) + 1
    assert f'name="s{statement.id}" value="na"' in page
    assert page.count("<fieldset") == len(framework.values[0].statements)
    assert page.count("<legend>") == len(framework.values[0].statements)


def test_a_value_that_does_not_exist_is_not_found(invited, client, framework):
    link = invited()["rater1@example.org"]
    assert client.get(f"{link}/values/0").status_code == 404
    assert client.get(f"{link}/values/{len(framework.values) + 1}").status_code == 404
    assert client.get(f"{link}/values/99999999999999999999").status_code == 404


def test_an_unknown_button_just_saves_and_stays(invited, client, framework):
    link = invited()["rater1@example.org"]
    response = submit_form(client, f"{link}/values/2", {"action": "value-x"})
    assert response.location == f"{link}/values/2?saved=1"
    response = submit_form(client, f"{link}/values/2", {"action": "value-999"})
    assert response.location == f"{link}/values/{len(framework.values)}?saved=1"


def test_used_and_closed_links_refuse_the_value_pages(invited, client, framework, runner):
    links = invited()
    used, other = links["rater1@example.org"], links["rater2@example.org"]
    walk_every_value(client, used, framework)
    submit_form(client, f"{used}/summary", {"action": "submit"})
    assert client.get(f"{used}/values/1").status_code == 410
    assert client.get(f"{used}/summary").status_code == 410
    runner.invoke(args=["cycle", "close", "Spring 2026"])
    assert client.get(f"{other}/values/1").status_code == 410


def test_the_whole_form_still_saves_and_submits(invited, client, framework):
    link = invited()["rater1@example.org"]
    everything = {f"s{s.id}": "4" for s in framework.statements}
    saved = submit_form(client, f"{link}/form", {**everything, "action": "save"})
    assert saved.location == f"{link}/form?saved=1"
    # What the whole form saved shows on the value pages, and the other way round.
    assert "46 of 46 statements answered" in page_text(client.get(f"{link}/values/1").text)
    assert "Answer one value at a time" in client.get(f"{link}/form").text
    sent = submit_form(client, f"{link}/form", {**everything, "action": "submit"})
    assert sent.location == "/r/thanks"
    assert submissions() == 1


def test_coming_back_to_the_link_carries_on_where_the_rater_stopped(invited, client, framework):
    link = invited()["rater1@example.org"]
    submit_form(client, f"{link}/values/1", {**answers_for(framework.values[0]), "action": "next"})
    start = client.get(link).text
    assert "Continue" in start
    answered = len(framework.values[0].statements)
    assert f"Continue {answered} of 46 statements answered." in page_text(start)
    assert f'href="{link}/values/2"' in start
    # With every statement answered, carrying on means checking and submitting.
    walk_every_value(client, link, framework)
    assert f'href="{link}/summary"' in client.get(link).text


# ---------------------------------------------------------------- the self-assessment


def self_pages(app, make_person, open_cycle) -> tuple:
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    browser = app.test_client()
    sign_in(browser, "sam@example.org")
    request_page = submit_form(browser, "/", {}, action=f"/cycles/{cycle.id}/request").location
    return browser, f"{request_page}/self"


def test_a_started_self_assessment_carries_on_where_it_stopped_and_says_how_far(
    app, make_person, open_cycle, framework
):
    browser, self_page = self_pages(app, make_person, open_cycle)
    request_page = self_page.removesuffix("/self")
    first = answers_for(framework.values[0])
    submit_form(browser, f"{self_page}/values/1", {**first, "action": "next"})
    page = browser.get(request_page).text
    assert f"{len(first)} of 46 statements answered" in page_text(page)
    assert f'href="{self_page}/values/2">Continue your self-assessment' in page


def test_self_assessment_goes_value_by_value_to_a_summary(app, make_person, open_cycle, framework):
    browser, self_page = self_pages(app, make_person, open_cycle)
    assert f'href="{self_page}/values/1"' in browser.get(self_page).text
    page = page_text(browser.get(f"{self_page}/values/1").text)
    assert "Your self-assessment" in page
    assert "How often do you" in page
    walk_every_value(browser, self_page, framework)
    to_summary = submit_form(browser, f"{self_page}/values/1", {"action": "summary"})
    assert to_summary.location == f"{self_page}/summary"
    response = submit_form(browser, f"{self_page}/summary", {"action": "submit"})
    assert response.location.endswith(self_page.removesuffix("/self"))
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    db.session.refresh(request)
    assert request.self_assessed
    assert responses() == 1
    # Once submitted, the value pages lead to the page that says so.
    done = browser.get(f"{self_page}/values/1")
    assert done.location == self_page
    assert "Your self-assessment has been submitted" in browser.get(self_page).text


def test_self_assessment_with_gaps_is_refused_and_autosave_works(
    app, make_person, open_cycle, framework
):
    browser, self_page = self_pages(app, make_person, open_cycle)
    statement = framework.values[1].statements[0]
    token = csrf_token(browser.get(f"{self_page}/values/2").text)
    saved = browser.post(
        f"{self_page}/values/2",
        data={"csrf_token": token, f"s{statement.id}": "3", "action": "autosave"},
    )
    assert saved.status_code == 204
    response = submit_form(browser, f"{self_page}/summary", {"action": "submit"})
    assert response.status_code == 400
    assert "45 statements still need an answer" in response.text
    assert f'name="s{statement.id}" value="3" checked' in browser.get(f"{self_page}/values/2").text
    assert responses() == 0
