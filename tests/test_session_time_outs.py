"""Issue 16, "Time-outs lose work" (WCAG 2.2.1): signed-in pages say how long is left and
can stay signed in; every request (an autosave too) renews the session; a post that meets a
timed-out session comes back to its page after signing in; a rating page posted with an
expired form token is shown again with what was posted, storing nothing, for raters and staff.

No waiting: the session's times are moved back in its cookie, and a form token is made to
expire by taking it out of the session, as a browser that lost its session cookie would.
"""

from __future__ import annotations

import re
import time

import pytest

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.forms import EXPIRED
from feedback360.security.expired_forms import TOKEN_HEADER
from feedback360.security.sessions import (
    IDLE_LEFT_HEADER,
    LAST_SEEN,
    MOST_LEFT_HEADER,
    SIGNED_IN_AT,
    TIMED_OUT_UNSAVED,
)
from tests.conftest import PASSWORD, csrf_token, page_text, running_app, sign_in, submit_form
from tests.test_value_pages import draft_of

FETCH = {"X-Requested-With": "fetch"}
KEEP_ALIVE = "/session/keep-alive"


def away(browser, minutes: float) -> None:  # type: ignore[no-untyped-def]
    """As if the person had done nothing for `minutes` (signed in an hour ago)."""
    now = int(time.time())
    with browser.session_transaction() as session:
        session[LAST_SEEN] = now - int(minutes * 60)
        session[SIGNED_IN_AT] = now - 3600


def last_seen(browser) -> int:  # type: ignore[no-untyped-def]
    with browser.session_transaction() as session:
        return int(session[LAST_SEEN])


def token_expires(browser) -> None:  # type: ignore[no-untyped-def]
    """The token in the page no longer matches the session (a lost cookie, an old session)."""
    with browser.session_transaction() as session:
        session.pop("csrf_token", None)


def data_attribute(html: str, name: str) -> str:
    match = re.search(rf'data-{name}="([^"]*)"', html)
    assert match, f"no data-{name} on the page"
    return match.group(1)


@pytest.fixture
def sam(app, make_person, open_cycle):  # type: ignore[no-untyped-def]
    """Sam, signed in, with a request in an open cycle; yields (browser, self-assessment page)."""
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    browser = app.test_client()
    sign_in(browser, "sam@example.org")
    request_page = submit_form(browser, "/", {}, action=f"/cycles/{cycle.id}/request").location
    return browser, f"{request_page}/self"


def self_draft() -> dict:
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    db.session.refresh(request)
    return request.self_draft or {}


# ---------------------------------------------------------------- the warning's numbers


def test_a_signed_in_page_carries_the_warning_and_the_time_left(sam):
    browser, _ = sam
    response = browser.get("/")
    html = response.text
    assert "data-session-timeout" in html
    assert 'src="/static/session_timeout.js"' in html
    assert 1790 <= int(data_attribute(html, "idle-left")) <= 1800
    assert int(data_attribute(html, "most-left")) > 11 * 3600
    assert data_attribute(html, "warn-before") == "300"
    assert data_attribute(html, "keep-alive-url") == KEEP_ALIVE
    assert 1790 <= int(response.headers[IDLE_LEFT_HEADER]) <= 1800
    assert MOST_LEFT_HEADER in response.headers


def test_pages_for_people_not_signed_in_carry_no_warning(invited, client):
    link = invited()["rater1@example.org"]
    for page in ("/sign-in", link, f"{link}/values/1"):
        response = client.get(page)
        assert "session_timeout.js" not in response.text, page
        assert IDLE_LEFT_HEADER not in response.headers, page


# ---------------------------------------------------------------- staying signed in


def test_stay_signed_in_renews_the_session_without_a_page(sam):
    browser, _ = sam
    token = csrf_token(browser.get("/").text)
    away(browser, 26)
    response = browser.post(KEEP_ALIVE, headers={**FETCH, "X-CSRFToken": token})
    assert response.status_code == 204
    assert int(time.time()) - last_seen(browser) < 5
    assert int(response.headers[IDLE_LEFT_HEADER]) >= 1795
    assert browser.get("/").status_code == 200


def test_asking_how_long_is_left_is_not_activity(sam):
    browser, _ = sam
    away(browser, 26)
    seen = last_seen(browser)
    response = browser.get(KEEP_ALIVE, headers=FETCH)
    assert response.status_code == 200
    body = response.get_json()
    assert 230 <= body["idle_left"] <= 240
    assert body["csrf_token"]
    assert last_seen(browser) == seen  # a page kept open is not someone at work


def test_after_a_time_out_the_script_hears_it_in_json_not_a_redirect(sam):
    browser, _ = sam
    token = csrf_token(browser.get("/").text)
    away(browser, 31)
    response = browser.post(KEEP_ALIVE, headers={**FETCH, "X-CSRFToken": token})
    assert response.status_code == 401
    assert response.get_json()["signed_out"] is True
    # Signed out already: the script is told in JSON too, a browser is sent to sign in.
    assert browser.get(KEEP_ALIVE, headers=FETCH).status_code == 401
    assert browser.get(KEEP_ALIVE).location.startswith("/sign-in")


# ---------------------------------------------------------------- saving renews the session


def test_an_autosave_renews_the_session_and_says_how_long_is_left(sam, framework):
    browser, self_page = sam
    statement = framework.values[0].statements[0]
    token = csrf_token(browser.get(f"{self_page}/values/1").text)
    away(browser, 25)
    response = browser.post(
        f"{self_page}/values/1",
        data={"csrf_token": token, f"s{statement.id}": "4", "action": "autosave"},
        headers=FETCH,
    )
    assert response.status_code == 204
    assert int(time.time()) - last_seen(browser) < 5
    assert int(response.headers[IDLE_LEFT_HEADER]) >= 1795
    assert self_draft()["ratings"] == {str(statement.id): 4}


def test_an_autosave_after_a_time_out_is_told_so_and_stores_nothing(sam, framework):
    browser, self_page = sam
    value = framework.values[0]
    token = csrf_token(browser.get(f"{self_page}/values/1").text)
    away(browser, 31)
    response = browser.post(
        f"{self_page}/values/1",
        data={"csrf_token": token, f"c{value.id}": "Typed while away", "action": "autosave"},
        headers=FETCH,
    )
    assert response.status_code == 401
    assert "signed out" in response.get_json()["error"]
    assert self_draft() == {}


# ---------------------------------------------------------------- back to the same page


def test_a_post_that_meets_a_time_out_returns_to_its_page_after_signing_in(sam, framework):
    browser, self_page = sam
    value = framework.values[0]
    page = f"{self_page}/values/1"
    token = csrf_token(browser.get(page).text)
    away(browser, 31)
    response = browser.post(
        page, data={"csrf_token": token, f"c{value.id}": "Typed while away", "action": "next"}
    )
    assert response.status_code == 302
    assert response.location == f"/sign-in?next={page}"
    assert TIMED_OUT_UNSAVED in page_text(browser.get(response.location).text)
    assert self_draft() == {}  # nothing is stored before the person signs in again
    back = submit_form(
        browser, response.location, {"email": "sam@example.org", "password": PASSWORD}
    )
    assert back.location == page


def test_a_post_to_a_button_of_its_own_goes_home_after_signing_in(sam):
    browser, self_page = sam
    request_page = self_page.removesuffix("/self")
    token = csrf_token(browser.get(request_page).text)
    away(browser, 31)
    response = browser.post(f"{request_page}/invitations", data={"csrf_token": token})
    assert response.location == "/sign-in"  # that address is no page to come back to


# ---------------------------------------------------------------- expired form tokens


def test_form_tokens_live_as_long_as_the_session_not_an_hour(app, invited, client, monkeypatch):
    link = invited()["rater1@example.org"]
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    real = time.time
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: real() - 3 * 3600)
        token = csrf_token(client.get(f"{link}/values/1").text)  # made three hours ago
    response = client.post(f"{link}/values/1", data={"csrf_token": token, "action": "save"})
    assert response.status_code == 302


def test_a_rater_whose_form_token_expired_gets_the_page_back_as_posted(invited, client, framework):
    link = invited()["rater1@example.org"]
    value = framework.values[0]
    statement = value.statements[0]
    page = f"{link}/values/1"
    token = csrf_token(client.get(page).text)
    token_expires(client)
    posted = {f"s{statement.id}": "5", f"c{value.id}": "Always fair & kind", "action": "next"}
    response = client.post(page, data={"csrf_token": token, **posted})
    assert response.status_code == 400
    assert EXPIRED in page_text(response.text)
    assert "Always fair &amp; kind" in response.text
    assert f'name="s{statement.id}" value="5" checked' in response.text
    assert draft_of("rater1@example.org") == {}  # nothing stored without a valid token
    fresh = csrf_token(response.text)
    assert fresh != token
    again = client.post(page, data={"csrf_token": fresh, **posted})
    assert again.location == f"{link}/values/2?saved=1"
    assert draft_of("rater1@example.org")["comments"] == {str(value.id): "Always fair & kind"}


def test_a_missing_token_on_the_whole_form_keeps_every_answer(invited, client, framework):
    link = invited()["rater1@example.org"]
    value = framework.values[2]
    client.get(f"{link}/form")
    response = client.post(
        f"{link}/form", data={f"c{value.id}": "Said on the whole form", "action": "save"}
    )
    assert response.status_code == 400
    assert EXPIRED in page_text(response.text)
    assert "Said on the whole form" in response.text
    assert draft_of("rater1@example.org") == {}


def test_an_expired_submit_on_the_summary_submits_nothing_and_says_why(invited, client):
    link = invited()["rater1@example.org"]
    token = csrf_token(client.get(f"{link}/summary").text)
    token_expires(client)
    response = client.post(f"{link}/summary", data={"csrf_token": token, "action": "submit"})
    assert response.status_code == 400
    assert EXPIRED in page_text(response.text)


def test_an_expired_autosave_hears_why_and_a_fresh_token_to_try_again(invited, client, framework):
    link = invited()["rater1@example.org"]
    statement = framework.values[0].statements[0]
    page = f"{link}/values/1"
    token = csrf_token(client.get(page).text)
    token_expires(client)
    posted = {f"s{statement.id}": "3", "action": "autosave"}
    response = client.post(page, data={"csrf_token": token, **posted}, headers=FETCH)
    assert response.status_code == 400
    assert response.get_json()["error"] == EXPIRED
    assert draft_of("rater1@example.org") == {}
    again = client.post(
        page, data={"csrf_token": response.headers[TOKEN_HEADER], **posted}, headers=FETCH
    )
    assert again.status_code == 204
    assert draft_of("rater1@example.org")["ratings"] == {str(statement.id): 3}


def test_an_expired_token_on_an_unusable_link_is_the_links_own_page(invited, client):
    invited()
    response = client.post("/r/no-such-link-at-all-here-xxxxxxxx/values/1", data={"action": "next"})
    assert response.status_code == 404


def test_a_staff_members_expired_token_keeps_their_answers_too(sam, framework):
    browser, self_page = sam
    value = framework.values[0]
    page = f"{self_page}/values/1"
    token = csrf_token(browser.get(page).text)
    token_expires(browser)
    posted = {f"c{value.id}": "My own words", "action": "save"}
    response = browser.post(page, data={"csrf_token": token, **posted})
    assert response.status_code == 400
    assert "My own words" in response.text
    assert self_draft() == {}


def test_an_expired_token_after_a_time_out_shows_nothing_but_the_way_to_sign_in(sam, framework):
    browser, self_page = sam
    value = framework.values[0]
    page = f"{self_page}/values/1"
    token = csrf_token(browser.get(page).text)
    token_expires(browser)
    away(browser, 31)
    response = browser.post(
        page, data={"csrf_token": token, f"c{value.id}": "Private words", "action": "save"}
    )
    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=")
    assert "Private words" not in response.text


def test_other_forms_with_an_expired_token_say_to_reload(sam):
    browser, _ = sam
    token = csrf_token(browser.get("/account/password").text)
    token_expires(browser)
    response = browser.post("/account/password", data={"csrf_token": token})
    assert response.status_code == 400
    assert "reload the page" in page_text(response.text)


@pytest.mark.suite_database
def test_posts_without_a_token_still_meet_the_limits_on_guessing_links(tmp_path, monkeypatch):
    """Shown again without its token, a rater's page still passes every request's checks."""
    with running_app(
        tmp_path, monkeypatch, RATELIMIT_UNKNOWN_LINKS_PER_ADDRESS="3 per minute"
    ) as app:
        guesser = app.test_client()
        for n in range(3):
            guess = guesser.post(f"/r/guess-{n}-{'x' * 40}/values/1", data={"action": "next"})
            assert guess.status_code == 404
        refused = guesser.post(f"/r/guess-9-{'x' * 40}/values/1", data={"action": "next"})
        assert refused.status_code == 429


def test_an_autosave_after_signing_out_elsewhere_is_not_taken_for_saved(sam, framework):
    """Signed out in another tab: the autosave hears 401, not a sign-in page it would follow
    and take for a save."""
    browser, self_page = sam
    value = framework.values[0]
    page = f"{self_page}/values/1"
    token = csrf_token(browser.get(page).text)
    browser.post("/sign-out", data={"csrf_token": token})
    response = browser.post(
        page,
        data={"csrf_token": token, f"c{value.id}": "After signing out", "action": "autosave"},
        headers=FETCH,
    )
    assert response.status_code == 401
    assert response.get_json()["signed_out"] is True
    assert self_draft() == {}
