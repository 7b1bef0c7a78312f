"""Running a domain action from a button: commit and say what happened, or say why not."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash

from feedback360.errors import DomainError
from feedback360.extensions import db

Outcome = TypeVar("Outcome")


def run_action(action: Callable[[], Outcome], done: str | Callable[[Outcome], str]) -> bool:
    """Run the action and commit, flashing `done`; a refusal is rolled back and explained.

    `done` may be a function of the action's outcome, e.g. the number of invitations sent.
    Returns whether the action went through.
    """
    try:
        outcome = action()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    db.session.commit()
    flash(done(outcome) if callable(done) else done, "info")
    return True
