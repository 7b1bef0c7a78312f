"""Failed sign-ins slow and then stop a guesser, yet no stranger can lock anyone out: the
right password from an address with no failures always gets in, and the page says how
long to wait."""

from __future__ import annotations

import pytest

from feedback360.config import ConfigError
from feedback360.ratelimits.refusals import wait_in_words
from feedback360.ratelimits.sign_in import TOO_MANY_FOR_ACCOUNT, TOO_MANY_FROM_HERE, UNDER_ATTACK
from tests.conftest import page_text, running_app, sign_in, submit_form
from tests.rate_limit_helpers import (
    at,
    limited_app,
    moved_clock,
    person_in_app,
    wrong_sign_in,
)
from tests.redis_helpers import redis_key_prefix, redis_keys, require_redis
from tests.servers import free_port

pytestmark = pytest.mark.suite_database

SAM, KIM = "sam@example.org", "kim@example.org"


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    yield from moved_clock(monkeypatch)


def says(response, *words: str) -> bool:  # type: ignore[no-untyped-def]
    return all(word in page_text(response.text) for word in words)


def test_an_attacker_at_one_address_is_slowed_then_stopped(tmp_path, monkeypatch, clock):
    settings = {
        "SIGN_IN_PER_ACCOUNT": "3 per hour",
        "SIGN_IN_PER_ACCOUNT_AND_ADDRESS": "5 per hour",
    }
    with limited_app(tmp_path, monkeypatch, **settings) as app:
        person_in_app("Sam Taylor", SAM)
        person_in_app("Kim Lee", KIM)
        attacker = app.test_client()
        assert [wrong_sign_in(attacker).status_code for _ in range(3)] == [200, 200, 200]

        # Sam's account is under attack: each new try from here waits.
        slowed = sign_in(attacker, "SAM@example.org ")  # however the address is typed
        assert slowed.status_code == 429
        assert slowed.headers["Retry-After"] == "30"
        assert says(slowed, UNDER_ATTACK, "Please wait 30 seconds, then try again.")
        clock.move_on(31)
        assert wrong_sign_in(attacker).status_code == 200
        assert wrong_sign_in(attacker).status_code == 429
        clock.move_on(31)
        assert wrong_sign_in(attacker).status_code == 200  # the fifth failure from here

        clock.move_on(31)
        stopped = sign_in(attacker, SAM)
        assert stopped.status_code == 429
        assert says(stopped, TOO_MANY_FOR_ACCOUNT, "Please wait 59 minutes, then try again.")
        # Sam at their desk, and Kim at the attacker's address, are not held up.
        assert sign_in(at(app, "192.0.2.10"), SAM).location == "/"
        assert sign_in(attacker, KIM).location == "/"

        clock.move_on(3600)
        assert sign_in(app.test_client(), SAM).location == "/"


def test_an_attack_from_many_addresses_never_keeps_the_owner_out(tmp_path, monkeypatch, clock):
    with running_app(tmp_path, monkeypatch) as app:  # the shipped limits
        person_in_app("Sam Taylor", SAM)
        refused = 0
        for n in range(40):
            attacker = at(app, f"198.51.100.{n}")
            statuses = [wrong_sign_in(attacker).status_code for _ in range(3)]
            refused += statuses.count(429)
        assert refused >= 60  # slowed: past the tenth failure, each address waits between tries

        assert sign_in(at(app, "192.0.2.10"), SAM).location == "/"
        # A slip at the owner's own address is slowed, not blocked.
        owner = at(app, "192.0.2.11")
        assert wrong_sign_in(owner).status_code == 200
        waiting = sign_in(owner, SAM)
        assert waiting.status_code == 429
        assert says(waiting, "Please wait 30 seconds")
        clock.move_on(30)
        assert sign_in(owner, SAM).location == "/"


def test_signing_in_clears_that_addresses_failures(tmp_path, monkeypatch):
    with limited_app(tmp_path, monkeypatch, SIGN_IN_PER_ACCOUNT_AND_ADDRESS="3 per hour") as app:
        person_in_app("Sam Taylor", SAM)
        for _ in range(2):
            browser = app.test_client()
            assert [wrong_sign_in(browser).status_code for _ in range(2)] == [200, 200]
            assert sign_in(browser, SAM).location == "/"


def test_failed_sign_ins_from_one_address_are_stopped_whichever_account(
    tmp_path, monkeypatch, clock
):
    with limited_app(tmp_path, monkeypatch, SIGN_IN_PER_ADDRESS="4 per minute") as app:
        person_in_app("Sam Taylor", SAM)
        sprayer = app.test_client()
        for n in range(4):
            assert wrong_sign_in(sprayer, f"guess{n}@example.org").status_code == 200
        stopped = wrong_sign_in(sprayer, "guess9@example.org")
        assert stopped.status_code == 429
        assert says(stopped, TOO_MANY_FROM_HERE, "Please wait 60 seconds, then try again.")
        # The page leads back to signing in, to the page first asked for.
        assert 'href="/sign-in"' in stopped.text
        assert sign_in(at(app, "192.0.2.7"), SAM).location == "/"
        clock.move_on(61)
        assert sign_in(sprayer, SAM).location == "/"


def test_the_wait_page_keeps_the_page_asked_for(tmp_path, monkeypatch):
    with limited_app(tmp_path, monkeypatch, SIGN_IN_PER_ACCOUNT_AND_ADDRESS="1 per hour") as app:
        browser = app.test_client()
        page = "/sign-in?next=/requests/1"
        submit_form(browser, page, {"email": SAM, "password": "wrong"})
        refused = submit_form(browser, page, {"email": SAM, "password": "wrong"})
        assert refused.status_code == 429
        assert 'href="/sign-in?next=/requests/1"' in refused.text


def test_a_mistyped_password_or_two_is_no_problem(tmp_path, monkeypatch):
    with running_app(tmp_path, monkeypatch) as app:
        person_in_app("Sam Taylor", SAM)
        client = app.test_client()
        for _ in range(5):
            assert wrong_sign_in(client).status_code == 200
        assert sign_in(client, SAM).location == "/"


def test_thirty_people_signing_in_at_once_from_one_address_are_never_stopped(tmp_path, monkeypatch):
    with running_app(tmp_path, monkeypatch) as app:
        for n in range(30):
            person_in_app(f"Person {n}", f"person{n}@example.org")
        for n in range(30):
            assert sign_in(app.test_client(), f"person{n}@example.org").location == "/"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (30, "30 seconds"),
        (90, "90 seconds"),
        (91, "2 minutes"),
        (3507, "59 minutes"),
        (5400, "90 minutes"),
        (5401, "2 hours"),
    ],
)
def test_the_wait_in_plain_words_is_never_shorter_than_the_real_one(seconds, words):
    assert wait_in_words(seconds) == words


@pytest.mark.parametrize("setting", [{"SIGN_IN_PER_ACCOUNT": "lots"}, {"SIGN_IN_PAUSE_SECONDS": 0}])
def test_an_unreadable_limit_stops_the_start(tmp_path, monkeypatch, setting):
    with pytest.raises(ConfigError, match="RATELIMIT_SIGN_IN_"):
        limited_app(tmp_path, monkeypatch, **setting).__enter__()


# ---------------------------------------------------------------- counts shared in Redis


def test_on_redis_the_owner_gets_in_while_the_attacker_waits(tmp_path, monkeypatch):
    url = require_redis()
    settings = {
        "SIGN_IN_PER_ACCOUNT": "2 per hour",
        "SIGN_IN_PER_ACCOUNT_AND_ADDRESS": "3 per hour",
    }
    with (
        redis_key_prefix() as prefix,
        limited_app(tmp_path, monkeypatch, STORAGE_URI=url, KEY_PREFIX=prefix, **settings) as app,
    ):
        person_in_app("Sam Taylor", SAM)
        attacker = app.test_client()
        assert [wrong_sign_in(attacker).status_code for _ in range(3)] == [200, 200, 429]
        assert says(wrong_sign_in(attacker), UNDER_ATTACK, "seconds, then try again.")
        assert sign_in(at(app, "192.0.2.10"), SAM).location == "/"

        keys = b" ".join(redis_keys(url, f"*{prefix}*"))
        assert b"/sign-in/account-address/" in keys
        assert b"/sign-in/pause/" in keys
        assert b"sam" not in keys.lower()  # counters are named by a hash


def test_with_redis_unreachable_sign_ins_are_still_counted(tmp_path, monkeypatch):
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    settings = {"STORAGE_URI": unreachable, "SIGN_IN_PER_ACCOUNT_AND_ADDRESS": "2 per hour"}
    with limited_app(tmp_path, monkeypatch, **settings) as app:
        person_in_app("Sam Taylor", SAM)
        client = app.test_client()
        assert [wrong_sign_in(client).status_code for _ in range(3)] == [200, 200, 429]
        assert sign_in(at(app, "192.0.2.10"), SAM).location == "/"
