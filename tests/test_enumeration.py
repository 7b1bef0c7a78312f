"""Sign-in tells nobody who has an account, by its words, its status or its time."""

from __future__ import annotations

import re
import statistics
import time

import pytest

from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person
from feedback360.config import DEFAULTS
from feedback360.extensions import db
from tests.conftest import PASSWORD, page_text, sign_in

WRONG = "not the password at all"
REFUSED = "That email address and password do not match."


@pytest.fixture
def people(make_person):  # type: ignore[no-untyped-def]
    """Sam (active), Dee (deactivated) and Nia (added, no password chosen yet)."""
    make_person("Sam Taylor", "sam@example.org")
    make_person("Dee Parker", "dee@example.org").deactivate()
    add_person("Nia Brown", "nia@example.org")
    db.session.commit()


def refusal(client, email: str, password: str = WRONG) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = sign_in(client, email, password)
    # What differs by right is only what the person typed.
    return response.status_code, page_text(response.text).replace(email, "EMAIL")


def test_every_refusal_reads_the_same(app, people):
    seen = {
        email: refusal(app.test_client(), email)
        for email in (
            "sam@example.org",
            "dee@example.org",
            "nia@example.org",
            "nobody@example.org",
        )
    }
    statuses = {status for status, _ in seen.values()}
    texts = {text for _, text in seen.values()}
    assert statuses == {200}
    assert len(texts) == 1, texts
    assert REFUSED in texts.pop()


def test_a_deactivated_person_with_the_right_password_is_refused_like_anyone(app, people):
    status, text = refusal(app.test_client(), "dee@example.org", PASSWORD)
    assert (status, text) == refusal(app.test_client(), "nobody@example.org", PASSWORD)


@pytest.fixture
def production_hashing(app):  # type: ignore[no-untyped-def]
    """Passwords hashed as in production, not with the tests' cheap method."""
    app.config["PASSWORD_HASH_METHOD"] = DEFAULTS["PASSWORD_HASH_METHOD"]


def median_seconds(app, emails: list[str], rounds: int = 5) -> list[float]:  # type: ignore[no-untyped-def]
    """Each address's median time for a wrong sign-in, the addresses taking turns, after one
    untimed turn that warms up whatever a first request loads. CPU time of this process: the
    hash is all computing, so a skipped hash shows as plainly, and other work on a busy
    machine (which stretched one address's wall time to twice another's) does not count."""
    times: dict[str, list[float]] = {email: [] for email in emails}
    for turn in range(rounds + 1):
        for email in emails:
            client = app.test_client()
            start = time.process_time()
            refused = sign_in(client, email, WRONG)
            assert refused.status_code == 200  # the password checked, not a rate limit's page
            if turn:
                times[email].append(time.process_time() - start)
    return [statistics.median(times[email]) for email in emails]


def test_an_unknown_address_takes_as_long_as_a_wrong_password(app, production_hashing, people):
    """The password hash is the slow part; an unknown address is hashed against a stand-in."""
    known, unknown, no_password = median_seconds(
        app, ["sam@example.org", "nobody@example.org", "nia@example.org"]
    )
    assert unknown > known * 0.6, (known, unknown)
    assert no_password > known * 0.6, (known, no_password)


def test_passwords_are_stored_with_a_salted_memory_hard_hash(app, production_hashing, make_person):
    sam = make_person("Sam Taylor", "sam@example.org")
    kim = make_person("Kim Lee", "kim@example.org")  # the same password as Sam
    db.session.refresh(sam)
    match = re.fullmatch(r"scrypt:(\d+):(\d+):(\d+)\$([^$]+)\$([0-9a-f]+)", sam.password_hash or "")
    assert match, sam.password_hash
    cost, block_size, _ = (int(n) for n in match.groups()[:3])
    assert cost >= 2**15
    assert block_size >= 8
    assert len(match[4]) >= 16  # the salt
    assert sam.password_hash != kim.password_hash
    assert db.session.get_one(Person, sam.id).check_password("correct horse battery")
