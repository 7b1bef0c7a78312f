"""Rate limits stop guessing at sign-in and at personal links, never a real person."""

from __future__ import annotations

import time

import limits.storage.memory
import pytest

from feedback360.ratelimits import TOO_MANY
from tests.conftest import PASSWORD, csrf_token, page_text, poll_until, running_app, sign_in
from tests.redis_helpers import redis_key_prefix, redis_keys, require_redis

pytestmark = pytest.mark.suite_database

WRONG = "not the password"


def wrong_sign_in(client, email="sam@example.org"):  # type: ignore[no-untyped-def]
    return sign_in(client, email, WRONG)


def limited_app(tmp_path, monkeypatch, **limits):  # type: ignore[no-untyped-def]
    return running_app(tmp_path, monkeypatch, **{f"RATELIMIT_{k}": v for k, v in limits.items()})


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The clock of limits' memory counts, moved on by hand rather than waited for."""

    class Clock:
        ahead = 0.0

        def time(self) -> float:
            return time.time() + self.ahead

        def move_on(self, seconds: float) -> None:
            self.ahead += seconds

    moved = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", moved)  # it calls time.time()
    return moved


def test_failed_sign_ins_to_one_account_are_stopped_then_allowed_again(
    tmp_path, monkeypatch, make_person_in, clock
):
    with limited_app(tmp_path, monkeypatch, SIGN_IN_PER_ACCOUNT="3 per minute") as app:
        make_person_in("Sam Taylor", "sam@example.org")
        make_person_in("Kim Lee", "kim@example.org")
        client = app.test_client()
        assert [wrong_sign_in(client).status_code for _ in range(3)] == [200, 200, 200]

        refused = sign_in(client, "SAM@example.org ", PASSWORD)  # however the address is typed
        assert refused.status_code == 429
        assert TOO_MANY in page_text(refused.text)
        # Another account is not held up by guesses at Sam's.
        assert sign_in(app.test_client(), "kim@example.org").location == "/"

        clock.move_on(61)
        assert sign_in(client, "sam@example.org").location == "/"


def test_failed_sign_ins_from_one_address_are_stopped_whichever_account(
    tmp_path, monkeypatch, make_person_in
):
    with limited_app(tmp_path, monkeypatch, SIGN_IN_PER_ADDRESS="4 per minute") as app:
        make_person_in("Sam Taylor", "sam@example.org")
        client = app.test_client()
        for n in range(4):
            assert wrong_sign_in(client, f"guess{n}@example.org").status_code == 200
        assert wrong_sign_in(client, "guess9@example.org").status_code == 429
        # Someone at another address signs in as usual.
        elsewhere = app.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
        assert sign_in(elsewhere, "sam@example.org").location == "/"


def test_thirty_people_signing_in_at_once_from_one_address_are_never_stopped(
    tmp_path, monkeypatch, make_person_in
):
    with running_app(tmp_path, monkeypatch) as app:
        for n in range(30):
            make_person_in(f"Person {n}", f"person{n}@example.org")
        for n in range(30):
            assert sign_in(app.test_client(), f"person{n}@example.org").location == "/"


def test_a_mistyped_password_or_two_is_no_problem(tmp_path, monkeypatch, make_person_in):
    with running_app(tmp_path, monkeypatch) as app:
        make_person_in("Sam Taylor", "sam@example.org")
        client = app.test_client()
        for _ in range(5):
            assert wrong_sign_in(client).status_code == 200
        assert sign_in(client, "sam@example.org").location == "/"


def test_guessing_rater_links_is_stopped(tmp_path, monkeypatch, invited_in):
    with limited_app(tmp_path, monkeypatch, UNKNOWN_LINKS_PER_ADDRESS="3 per minute") as app:
        links = invited_in(app)
        guesser = app.test_client()
        for n in range(3):
            assert guesser.get(f"/r/guess-{n}-{'x' * 40}").status_code == 404
        refused = guesser.get(f"/r/guess-9-{'x' * 40}")
        assert refused.status_code == 429
        assert TOO_MANY in page_text(refused.text)
        assert guesser.get(links["rater1@example.org"]).status_code == 429
        # Set-password links count with rater links: one guess allowance for both.
        assert guesser.get("/account/set-password/" + "y" * 43).status_code == 429
        # A rater elsewhere opens their link as usual; a real link's pages never count.
        rater = app.test_client()
        rater.environ_base["REMOTE_ADDR"] = "192.0.2.8"
        for _ in range(5):
            assert rater.get(links["rater1@example.org"]).status_code == 200


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
    limits = {"ENABLED": False, "SIGN_IN_PER_ACCOUNT": "1 per minute"}
    with limited_app(tmp_path, monkeypatch, **limits) as app:
        client = app.test_client()
        assert {wrong_sign_in(client).status_code for _ in range(3)} == {200}


# ---------------------------------------------------------------- shared counts in Redis


def test_redis_counts_trip_and_reset(tmp_path, monkeypatch, make_person_in):
    url = require_redis()
    with (
        redis_key_prefix() as prefix,
        limited_app(
            tmp_path,
            monkeypatch,
            STORAGE_URI=url,
            KEY_PREFIX=prefix,
            SIGN_IN_PER_ACCOUNT="2 per 1 second",
        ) as app,
    ):
        make_person_in("Sam Taylor", "sam@example.org")
        client = app.test_client()
        assert [wrong_sign_in(client).status_code for _ in range(3)] == [200, 200, 429]
        # Redis expires the count by its own clock: wait for that, not for a guessed time.
        poll_until(
            lambda: not redis_keys(url, f"*{prefix}/account:*"),
            timeout=10,
            what="Redis's expiry of the count",
        )
        assert sign_in(client, "sam@example.org").location == "/"


def test_two_app_instances_share_one_count_in_redis(tmp_path, monkeypatch):
    """Two workers (two apps) behind one site: a guesser cannot double the allowance by
    landing on each in turn."""
    url = require_redis()
    limits = {"STORAGE_URI": url, "SIGN_IN_PER_ACCOUNT": "3 per minute"}
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
    """Why Redis matters: with memory storage each worker counts on its own."""
    limits = {"SIGN_IN_PER_ACCOUNT": "1 per minute"}
    with (
        limited_app(tmp_path / "one", monkeypatch, **limits) as first,
        limited_app(tmp_path / "two", monkeypatch, **limits) as second,
    ):
        assert wrong_sign_in(first.test_client()).status_code == 200
        assert wrong_sign_in(second.test_client()).status_code == 200
        assert wrong_sign_in(first.test_client()).status_code == 429


@pytest.fixture
def make_person_in():  # type: ignore[no-untyped-def]
    """Add a person to whichever app's context is current."""
    from feedback360.accounts.services import add_person
    from feedback360.extensions import db

    def make(name: str, email: str):  # type: ignore[no-untyped-def]
        person = add_person(name, email, password=PASSWORD)
        db.session.commit()
        return person

    return make


@pytest.fixture
def invited_in(make_person_in):  # type: ignore[no-untyped-def]
    """Sam's request with five peers invited, in the current app; their links by email."""
    from feedback360.cycles.services import create_cycle
    from feedback360.extensions import db
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
        make_person_in("Sam Taylor", "sam@example.org")
        sam = app.test_client()
        sign_in(sam, "sam@example.org")
        request_page = submit_form(sam, "/", {}, action=f"/cycles/{cycle.id}/request").location
        raters = [(f"Rater {n}", f"rater{n}@example.org", "peer") for n in range(1, 6)]
        nominate_and_send(sam, request_page, raters)
        return {message["To"]: link_in(message) for message in outbox_messages(app)}

    return invite
