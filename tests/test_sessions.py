"""Sessions: safe cookies, a fresh session at sign-in, time-outs, and sign-out that ends it."""

from __future__ import annotations

import time

import pytest

from feedback360.accounts.services import add_person
from feedback360.extensions import db
from feedback360.security.sessions import LAST_SEEN, SIGNED_IN_AT, TIMED_OUT
from tests.conftest import PASSWORD, csrf_token, page_text, running_app, sign_in, submit_form


def signed_in(app, email="sam@example.org"):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    assert sign_in(browser, email).location == "/"
    return browser


def age_session(browser, *, idle_minutes: float = 0, signed_in_hours: float = 0) -> None:  # type: ignore[no-untyped-def]
    """As if the person had been away, or signed in long ago."""
    now = int(time.time())
    with browser.session_transaction() as session:
        session[LAST_SEEN] = now - int(idle_minutes * 60)
        session[SIGNED_IN_AT] = now - int(signed_in_hours * 3600)


def test_session_cookies_are_http_only_and_same_site(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    browser = app.test_client()
    response = sign_in(browser, "sam@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test site is plain http


@pytest.mark.suite_database
def test_cookies_are_secure_when_the_site_is_https(tmp_path, monkeypatch):
    with running_app(tmp_path, monkeypatch, BASE_URL="https://feedback.example.org") as app:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.suite_database
def test_over_https_the_session_cookie_is_bound_to_this_host(tmp_path, monkeypatch):
    """The __Host- prefix: browsers take the cookie only if Secure, for the whole site and
    no domain, so a neighbouring subdomain can neither read nor plant it."""
    with running_app(tmp_path, monkeypatch, BASE_URL="https://feedback.example.org") as app:
        add_person("Sam Taylor", "sam@example.org", password=PASSWORD)
        db.session.commit()
        browser = app.test_client()
        cookie = sign_in(browser, "sam@example.org").headers["Set-Cookie"]
        assert cookie.startswith("__Host-session=")
        attributes = {part.strip().split("=")[0] for part in cookie.split(";")[1:]}
        assert {"Secure", "Path", "HttpOnly", "SameSite"} <= attributes
        assert "Path=/;" in cookie
        assert "Domain" not in attributes
        assert browser.get("/").status_code == 200  # still signed in with the prefixed cookie
        assert app.config["REMEMBER_COOKIE_NAME"].startswith("__Host-")


def test_over_plain_http_the_session_cookie_has_no_prefix(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    cookie = sign_in(app.test_client(), "sam@example.org").headers["Set-Cookie"]
    assert cookie.startswith("session=")


def test_signing_in_starts_a_fresh_session(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    browser = app.test_client()
    token_before = csrf_token(browser.get("/sign-in").text)
    with browser.session_transaction() as session:
        session["planted"] = "by someone who fixed this session earlier"

    sign_in(browser, "sam@example.org")

    with browser.session_transaction() as session:
        assert "planted" not in session
        assert isinstance(session[SIGNED_IN_AT], int)
    assert csrf_token(browser.get("/").text) != token_before


def test_a_session_left_idle_ends_with_a_plain_message(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    browser = signed_in(app)
    age_session(browser, idle_minutes=31)

    response = browser.get("/requests?x=1")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=")
    assert TIMED_OUT in page_text(browser.get(response.location).text)
    assert browser.get("/").location.startswith("/sign-in")  # and it stays ended


def test_a_person_at_work_stays_signed_in(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    browser = signed_in(app)
    age_session(browser, idle_minutes=29, signed_in_hours=11)
    assert browser.get("/").status_code == 200
    with browser.session_transaction() as session:
        assert int(time.time()) - session[LAST_SEEN] < 5  # the visit counts as activity


def test_a_session_ends_after_the_longest_time_however_active(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    browser = signed_in(app)
    age_session(browser, idle_minutes=1, signed_in_hours=12.1)
    assert browser.get("/").location.startswith("/sign-in")


@pytest.mark.suite_database
def test_the_time_outs_are_configurable(tmp_path, monkeypatch, make_person_here):
    with running_app(tmp_path, monkeypatch, SESSION_IDLE_MINUTES=5) as app:
        make_person_here()
        browser = signed_in(app)
        age_session(browser, idle_minutes=6)
        assert browser.get("/").location.startswith("/sign-in")


def test_autosave_after_a_time_out_is_told_so_not_redirected(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    browser = signed_in(app)
    token = csrf_token(browser.get("/").text)  # a page left open over lunch
    age_session(browser, idle_minutes=31)
    response = browser.post(
        "/sign-out", data={"csrf_token": token}, headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 401
    assert "sign in again" in response.get_json()["error"]


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    browser = signed_in(app)
    copied = browser.get_cookie("session").value  # say, taken from a shared computer

    submit_form(browser, "/", {}, action="/sign-out")
    assert browser.get("/").location.startswith("/sign-in")

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/").location.startswith("/sign-in")


def test_deactivation_ends_every_session(app, make_person):
    sam = make_person("Sam Taylor", "sam@example.org")
    browser = signed_in(app)
    sam.deactivate()
    db.session.commit()
    assert browser.get("/").location.startswith("/sign-in")


@pytest.fixture
def make_person_here():  # type: ignore[no-untyped-def]
    from feedback360.accounts.services import add_person
    from tests.conftest import PASSWORD

    def make():  # type: ignore[no-untyped-def]
        add_person("Sam Taylor", "sam@example.org", password=PASSWORD)
        db.session.commit()

    return make
