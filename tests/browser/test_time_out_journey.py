"""Issue 16, "Time-outs lose work" (WCAG 2.2.1), in real Chromium: the warning comes before
the time-out and "Stay signed in" keeps the person signed in; an autosave renews the
session and restarts the page's count; after a time-out the typed comment survives signing
in again and is saved (in a new tab, or in the same one); a rater whose form token expired
loses nothing.

Nothing waits for real minutes: the page's timers run on Playwright's `page.clock`, and
the server's view of the session is moved back in its cookie (signed with the app's key).
"""

from __future__ import annotations

import time

import pytest

from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.security.sessions import LAST_SEEN, SIGNED_IN_AT
from tests.browser.test_browser_journeys import mailed_link, seed_cycle, sees, sign_in

pytestmark = pytest.mark.suite_database

AUTOSAVE = "[data-autosave-status]"
WARNING = "You will be signed out soon"
SIGNED_OUT = "You have been signed out"


def expect(target):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as playwright_expect  # without Playwright: skip

    return playwright_expect(target)


def session_cookie(page, app) -> dict:  # type: ignore[no-untyped-def]
    name = app.config["SESSION_COOKIE_NAME"]
    return next(c for c in page.context.cookies() if c["name"] == name)


def server_session(page, app) -> dict:  # type: ignore[no-untyped-def]
    serializer = app.session_interface.get_signing_serializer(app)
    return dict(serializer.loads(session_cookie(page, app)["value"]))


def away_on_the_server(page, app, minutes: float) -> None:  # type: ignore[no-untyped-def]
    """As the server sees it, the person has done nothing for `minutes`."""
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = session_cookie(page, app)
    data = server_session(page, app)
    data[LAST_SEEN] = int(time.time()) - int(minutes * 60)
    page.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])


def seen_just_now(page, app) -> bool:  # type: ignore[no-untyped-def]
    return int(time.time()) - server_session(page, app)[LAST_SEEN] < 10


def dialog(page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("alertdialog", name=name)


def comment_box(page):  # type: ignore[no-untyped-def]
    return page.locator("form[data-autosave] textarea")


def self_comments(request) -> dict:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return (request.self_draft or {}).get("comments", {})


def test_the_warning_comes_first_and_stay_signed_in_keeps_the_session(live_app, new_page, visits):
    seed_cycle(send=False)
    sam = new_page()
    sam.clock.install()
    sign_in(sam, "sam@example.org")
    expect(dialog(sam, WARNING)).to_be_hidden()

    # 26 minutes without a click: four are left, and the page says so and offers to stay.
    away_on_the_server(sam, live_app, 26)
    sam.clock.fast_forward("26:00")
    warning = dialog(sam, WARNING)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("you will be signed out in 4 minutes")
    stay = warning.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()  # reached at once from the keyboard
    expect(warning.get_by_role("button", name="Carry on")).to_be_hidden()
    visits.check(sam, "time-out-warning")

    sam.keyboard.press("Enter")
    expect(warning).to_be_hidden()
    expect(sam.locator("[data-session-status]")).to_have_text("You are still signed in.")
    assert seen_just_now(sam, live_app)

    # The count started again: 20 minutes later there is no warning, and pages still open.
    sam.clock.fast_forward("20:00")
    expect(dialog(sam, WARNING)).to_be_hidden()
    sam.get_by_role("link", name="My feedback").click()
    sees(sam.locator("header"), "Sign out")


def test_an_autosave_renews_the_session_and_restarts_the_count(live_app, new_page):
    _, request = seed_cycle(send=False)
    sam = new_page()
    sam.clock.install()
    sign_in(sam, "sam@example.org")
    sam.goto(f"/requests/{request.id}/self/values/1")
    asked = []
    sam.on("request", lambda r: asked.append(r.url) if "/session/keep-alive" in r.url else None)

    sam.clock.fast_forward("20:00")
    away_on_the_server(sam, live_app, 20)
    with sam.expect_response(lambda r: r.request.method == "POST" and "/values/" in r.url) as save:
        sam.locator("fieldset.statement").first.get_by_role("radio").first.check()
    assert save.value.status == 204
    expect(sam.locator(AUTOSAVE)).to_contain_text("Saved at")
    assert seen_just_now(sam, live_app)

    # 44 minutes after the page came, 24 after the save: still quiet, without even asking.
    sam.clock.fast_forward("24:00")
    expect(dialog(sam, WARNING)).to_be_hidden()
    assert asked == []
    # Two minutes more and the warning comes, from the save's count.
    away_on_the_server(sam, live_app, 26)
    sam.clock.fast_forward("02:00")
    expect(dialog(sam, WARNING)).to_be_visible()


def timed_out_with_a_comment(live_app, sam, page: str, words: str) -> None:  # type: ignore[no-untyped-def]
    """Sam types a comment after the session timed out (a laptop that slept): the autosave
    hears so, and the page says he was signed out."""
    sam.goto(page)
    away_on_the_server(sam, live_app, 31)
    with sam.expect_response(lambda r: r.request.method == "POST" and "/values/" in r.url) as save:
        comment_box(sam).fill(words)
    assert save.value.status == 401
    expect(sam.locator(AUTOSAVE)).to_contain_text("you were signed out")
    expect(dialog(sam, SIGNED_OUT)).to_be_visible()


def test_after_a_time_out_signing_in_in_a_new_tab_saves_the_typed_comment(live_app, new_page):
    _, request = seed_cycle(send=False)
    sam = new_page()
    sign_in(sam, "sam@example.org")
    words = "Typed before the laptop went to sleep"
    timed_out_with_a_comment(live_app, sam, f"/requests/{request.id}/self/values/1", words)
    signed_out = dialog(sam, SIGNED_OUT)
    expect(signed_out).to_contain_text("Nothing on this page is lost")
    expect(signed_out.get_by_role("button", name="Stay signed in")).to_be_hidden()
    expect(signed_out.get_by_role("link", name="Sign in again in a new tab")).to_be_focused()
    assert self_comments(request) == {}

    # "Carry on" before signing in: not yet.
    signed_out.get_by_role("button", name="Carry on").click()
    expect(signed_out).to_contain_text("You are not signed in yet")

    with sam.context.expect_page() as opened:
        signed_out.get_by_role("link", name="Sign in again in a new tab").click()
    other_tab = opened.value
    other_tab.get_by_label("Email").fill("sam@example.org")
    other_tab.get_by_label("Password").fill("correct horse battery")
    other_tab.get_by_role("button", name="Sign in").click()
    sees(other_tab.locator("header"), "Sign out")

    sam.bring_to_front()
    signed_out.get_by_role("button", name="Carry on").click()
    expect(signed_out).to_be_hidden()
    expect(sam.locator("[data-session-status]")).to_contain_text("You are signed in again")
    expect(sam.locator(AUTOSAVE)).to_contain_text("Saved at")
    expect(comment_box(sam)).to_have_value(words)
    assert list(self_comments(request).values()) == [words]


def test_after_a_time_out_the_same_tab_puts_the_comment_back_and_saves_it(live_app, new_page):
    _, request = seed_cycle(send=False)
    sam = new_page()
    sign_in(sam, "sam@example.org")
    page = f"/requests/{request.id}/self/values/1"
    words = "Typed, then the session ended"
    timed_out_with_a_comment(live_app, sam, page, words)
    sam.keyboard.press("Escape")  # the dialog closes; Next is pressed anyway
    expect(dialog(sam, SIGNED_OUT)).to_be_hidden()
    sam.get_by_role("button", name="Next:").click()

    # Asked to sign in, then back on the same page with the comment put back and saved.
    sam.get_by_label("Email").fill("sam@example.org")
    sam.get_by_label("Password").fill("correct horse battery")
    sam.get_by_role("button", name="Sign in").click()
    expect(sam).to_have_url(f"{live_app.config['BASE_URL']}{page}")
    expect(sam.locator(".notice[role=status]").last).to_contain_text("were put back")
    expect(comment_box(sam)).to_have_value(words)
    expect(sam.locator(AUTOSAVE)).to_contain_text("Saved at")
    assert list(self_comments(request).values()) == [words]


def test_the_whole_form_puts_back_what_a_timed_out_save_did_not_store(live_app, new_page):
    _, request = seed_cycle(send=False)
    sam = new_page()
    sign_in(sam, "sam@example.org")
    page = f"/requests/{request.id}/self"
    sam.goto(page)
    words = "Written on the one-page form"
    sam.locator("form[data-keep-answers] textarea").first.fill(words)
    away_on_the_server(sam, live_app, 31)  # the laptop slept before Save was pressed
    sam.get_by_role("button", name="Save and come back later").click()

    sees(sam.locator("main"), "what you sent last was not saved")
    sam.get_by_label("Email").fill("sam@example.org")
    sam.get_by_label("Password").fill("correct horse battery")
    sam.get_by_role("button", name="Sign in").click()
    expect(sam).to_have_url(f"{live_app.config['BASE_URL']}{page}")
    expect(sam.locator(".notice[role=status]").last).to_contain_text("were put back")
    expect(sam.locator("form[data-keep-answers] textarea").first).to_have_value(words)
    assert self_comments(request) == {}
    sam.get_by_role("button", name="Save and come back later").click()
    sees(sam.locator("main"), "Your answers are saved")
    assert list(self_comments(request).values()) == [words]


def test_the_longest_session_is_warned_of_too(live_app, new_page):
    seed_cycle(send=False)
    sam = new_page()
    sam.clock.install()
    sign_in(sam, "sam@example.org")
    serializer = live_app.session_interface.get_signing_serializer(live_app)
    cookie = session_cookie(sam, live_app)
    data = server_session(sam, live_app)
    data[SIGNED_IN_AT] = int(time.time()) - (12 * 3600 - 4 * 60)  # four minutes to go
    sam.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])
    sam.reload()
    sam.clock.fast_forward("00:02")
    warning = dialog(sam, WARNING)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("signed in for as long as is allowed")
    expect(warning.get_by_role("button", name="Stay signed in")).to_be_hidden()
    ok = warning.get_by_role("button", name="OK")
    expect(ok).to_be_focused()
    ok.click()
    expect(warning).to_be_hidden()


def rater_draft(request, email: str) -> dict:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    invitation = next(i for i in request.invitations if i.email == email)
    return services.rater_draft(invitation) or {}


def test_a_rater_whose_form_token_expired_loses_nothing(live_app, new_page, chromium):
    _, request = seed_cycle()
    link = mailed_link(live_app, "rater1@example.org")

    # With the script: the autosave is told the token expired, takes a fresh one and saves.
    rater = new_page()
    rater.goto(f"{link}/values/1")
    with rater.expect_response(lambda r: "/values/" in r.url and r.request.method == "POST"):
        comment_box(rater).fill("First thoughts")
    expect(rater.locator(AUTOSAVE)).to_contain_text("Saved at")
    rater.context.clear_cookies()  # the browser lost its session: the page's token is no good
    statuses = []
    rater.on("response", lambda r: statuses.append(r.status) if "/values/" in r.url else None)
    with rater.expect_response(lambda r: "/values/" in r.url and r.status == 204):
        comment_box(rater).fill("Second thoughts, kept")
    assert statuses == [400, 204]  # refused with a fresh token, then saved with it
    expect(rater.locator(AUTOSAVE)).to_contain_text("Saved at")
    assert list(rater_draft(request, "rater1@example.org")["comments"].values()) == [
        "Second thoughts, kept"
    ]

    # Without the script: Next shows the page again as it was posted, then saves.
    context = chromium.new_context(base_url=live_app.config["BASE_URL"], java_script_enabled=False)
    try:
        plain = context.new_page()
        link = mailed_link(live_app, "rater2@example.org")
        plain.goto(f"{link}/values/1")
        plain.locator("fieldset.statement").first.get_by_role("radio", name="4 Often").check()
        plain.locator("textarea").first.fill("Written slowly, over hours")
        context.clear_cookies()
        plain.get_by_role("button", name="Next:").click()
        expect(plain.locator(".error-summary")).to_contain_text("Nothing you entered is lost")
        expect(plain.locator("textarea").first).to_have_value("Written slowly, over hours")
        assert rater_draft(request, "rater2@example.org") == {}
        plain.get_by_role("button", name="Next:").click()
        expect(plain.locator("h1")).to_contain_text("Value 2 of")
        draft = rater_draft(request, "rater2@example.org")
        assert list(draft["comments"].values()) == ["Written slowly, over hours"]
        assert len(draft["ratings"]) == 1
    finally:
        context.close()
