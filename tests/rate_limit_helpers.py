"""What the rate-limit tests share: an app with the limits a test chooses, people in it, and
a clock moved on by hand rather than waited for."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import limits.storage.memory
import pytest
from flask import Flask

import feedback360.ratelimits.counts
from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person
from feedback360.extensions import db
from tests.conftest import PASSWORD, running_app, sign_in

WRONG = "not the password"


def limited_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: object
) -> AbstractContextManager[Flask]:
    """An app whose RATELIMIT_<key> settings are given as <key>=value."""
    return running_app(
        tmp_path, monkeypatch, **{f"RATELIMIT_{key}": value for key, value in settings.items()}
    )


def person_in_app(name: str, email: str) -> Person:
    """Someone with the tests' password, in whichever app's context is current."""
    person = add_person(name, email, password=PASSWORD)
    db.session.commit()
    return person


def wrong_sign_in(client, email="sam@example.org"):  # type: ignore[no-untyped-def]
    return sign_in(client, email, WRONG)


def at(app: Flask, address: str):  # type: ignore[no-untyped-def]
    """A browser at another address."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


class Clock:
    """time.time() for limits' memory counts and ours, moved on by hand."""

    ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead

    def move_on(self, seconds: float) -> None:
        self.ahead += seconds


def moved_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    clock = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)  # it calls time.time()
    monkeypatch.setattr(feedback360.ratelimits.counts, "time", clock)
    yield clock
