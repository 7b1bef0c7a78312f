"""Rate limits stop guessing at personal links, never a real person; counts are shared by
every app on Redis. Failed sign-ins: tests/test_sign_in_limits.py."""

from __future__ import annotations

import pytest

from feedback360.accounts.activation import issue_password_token
from feedback360.extensions import db
from feedback360.ratelimits import TOO_MANY
from tests.conftest import csrf_token, page_text, poll_until, running_app, sign_in
from tests.rate_limit_helpers import at, limited_app, person_in_app, wrong_sign_in
from tests.redis_helpers import redis_key_prefix, redis_keys, require_redis

pytestmark = pytest.mark.suite_database


def test_guessing_links_is_stopped_but_real_links_always_open(tmp_path, monkeypatch, invited_in):
    """Everyone behind one office proxy shares an address: a guesser among them must not
    shut the others out of their links."""
    with limited_app(tmp_path, monkeypatch, UNKNOWN_LINKS_PER_ADDRESS="3 per minute") as app:
        links = invited_in(app)
        token = issue_password_token(person_in_app("Kim Lee", "kim@example.org"))
        db.session.commit()
        password_link = f"/account/set-password/{token}"
        office = app.test_client()
        for n in range(3):
            assert office.get(f"/r/guess-{n}-{'x' * 40}").status_code == 404
        refused = office.get(f"/r/guess-9-{'x' * 40}")
        assert refused.status_code == 429
        assert TOO_MANY in page_text(refused.text)
        # Set-password links count with rater links: one guess allowance for both.
        assert office.get("/account/set-password/" + "y" * 43).status_code == 429

        # Real links from the same address open, again and again, and never count.
        for _ in range(5):
            assert office.get(links["rater1@example.org"]).status_code == 200
            assert office.get(f"{links['rater2@example.org']}/values/1").status_code == 200
            assert office.get(password_link).status_code == 200
        # A guess from elsewhere has its own allowance.
        assert at(app, "192.0.2.8").get(f"/r/guess-1-{'x' * 40}").status_code == 404


def test_one_link_hammered_is_slowed_and_autosave_hears_why(tmp_path, monkeypatch, invited_in):
    with limited_app(tmp_path, monkeypatch, PER_LINK="4 per minute") as app:
        links = invited_in(app)
        rater = app.test_client()
        page = f"{links['rater1@example.org']}/values/1"
        token = csrf_token(rater.get(page).text)
        for _ in range(3):
            saved = rater.post(
                page,
                data={"csrf_token": token, "action": "autosave"},
                headers={"X-Requested-With": "fetch"},
            )
            assert saved.status_code < 400, saved.status_code
        refused = rater.post(
            page,
            data={"csrf_token": token, "action": "autosave"},
            headers={"X-Requested-With": "fetch"},
        )
        assert refused.status_code == 429
        assert "Wait a minute" in refused.get_json()["error"]
        # Another rater's link is its own count.
        assert app.test_client().get(links["rater2@example.org"]).status_code == 200
        # The shared pages hold no link: a whole office can see them, however many at once.
        assert {rater.get("/r/thanks").status_code for _ in range(6)} == {200}


def test_a_rater_clicking_through_the_whole_form_is_never_stopped(
    tmp_path, monkeypatch, invited_in
):
    with running_app(tmp_path, monkeypatch) as app:
        links = invited_in(app)
        rater = app.test_client()
        page = f"{links['rater1@example.org']}/values/1"
        token = csrf_token(rater.get(page).text)
        for _ in range(150):  # an autosave on every click, far faster than anyone clicks
            saved = rater.post(
                page,
                data={"csrf_token": token, "action": "autosave"},
                headers={"X-Requested-With": "fetch"},
            )
            assert saved.status_code < 400


def test_limits_can_be_switched_off(tmp_path, monkeypatch):
    limits = {"ENABLED": False, "SIGN_IN_PER_ACCOUNT_AND_ADDRESS": "1 per minute"}
    with limited_app(tmp_path, monkeypatch, **limits) as app:
        client = app.test_client()
        assert {wrong_sign_in(client).status_code for _ in range(3)} == {200}


# ---------------------------------------------------------------- shared counts in Redis


def test_redis_counts_trip_and_reset(tmp_path, monkeypatch):
    url = require_redis()
    with (
        redis_key_prefix() as prefix,
        limited_app(
            tmp_path,
            monkeypatch,
            STORAGE_URI=url,
            KEY_PREFIX=prefix,
            SIGN_IN_PER_ACCOUNT_AND_ADDRESS="2 per 1 second",
        ) as app,
    ):
        person_in_app("Sam Taylor", "sam@example.org")
        client = app.test_client()
        assert [wrong_sign_in(client).status_code for _ in range(3)] == [200, 200, 429]
        # Redis expires the count by its own clock: wait for that, not for a guessed time.
        poll_until(
            lambda: not redis_keys(url, f"*{prefix}/sign-in/account-address/*"),
            timeout=10,
            what="Redis's expiry of the count",
        )
        assert sign_in(client, "sam@example.org").location == "/"


def test_two_app_instances_share_one_count_in_redis(tmp_path, monkeypatch):
    """Two workers (two apps) behind one site: a guesser cannot double the allowance by
    landing on each in turn."""
    url = require_redis()
    limits = {"STORAGE_URI": url, "SIGN_IN_PER_ACCOUNT_AND_ADDRESS": "3 per minute"}
    with (
        redis_key_prefix() as prefix,
        limited_app(tmp_path / "one", monkeypatch, KEY_PREFIX=prefix, **limits) as first,
        limited_app(tmp_path / "two", monkeypatch, KEY_PREFIX=prefix, **limits) as second,
    ):
        one, two = first.test_client(), second.test_client()
        assert wrong_sign_in(one).status_code == 200
        assert wrong_sign_in(two).status_code == 200
        assert wrong_sign_in(one).status_code == 200
        assert wrong_sign_in(two).status_code == 429
        assert wrong_sign_in(one).status_code == 429


def test_memory_counts_are_per_app(tmp_path, monkeypatch):
    """Why Redis matters: with memory storage each worker counts on its own (and why
    gunicorn.conf.py refuses several workers on it, tests/test_gunicorn_workers.py)."""
    limits = {"SIGN_IN_PER_ACCOUNT_AND_ADDRESS": "1 per minute"}
    with (
        limited_app(tmp_path / "one", monkeypatch, **limits) as first,
        limited_app(tmp_path / "two", monkeypatch, **limits) as second,
    ):
        assert wrong_sign_in(first.test_client()).status_code == 200
        assert wrong_sign_in(second.test_client()).status_code == 200
        assert wrong_sign_in(first.test_client()).status_code == 429


@pytest.fixture
def invited_in():  # type: ignore[no-untyped-def]
    """Sam's request with five peers invited, in the current app; their links by email."""
    from feedback360.cycles.services import create_cycle
    from feedback360.frameworks.services import (
        bundled_framework,
        load_framework,
        read_framework_file,
    )
    from tests.conftest import link_in, nominate_and_send, outbox_messages, submit_form

    def invite(app):  # type: ignore[no-untyped-def]
        framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
        cycle = create_cycle("Spring 2026", framework, min_raters=5)
        cycle.open()
        db.session.commit()
        person_in_app("Sam Taylor", "sam@example.org")
        sam = app.test_client()
        sign_in(sam, "sam@example.org")
        request_page = submit_form(sam, "/", {}, action=f"/cycles/{cycle.id}/request").location
        raters = [(f"Rater {n}", f"rater{n}@example.org", "peer") for n in range(1, 6)]
        nominate_and_send(sam, request_page, raters)
        return {message["To"]: link_in(message) for message in outbox_messages(app)}

    return invite
