"""The one way a view or a command ends a transaction: commit, or roll back and say why.

A service raises DomainError to refuse; everything that calls one ends here:
- `run_action`: a button; the outcome or the refusal is flashed on the next page;
- `run_form_action`: a form; a refusal goes beside its field (`show_error`) and the form
  is shown again with what was typed;
- `commit_or_refuse`: the shared core, for a view that explains a refusal its own way;
- `domain_command` (feedback360.commands): a command line; a refusal exits with status 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash
from wtforms import Form

from feedback360.errors import DomainError
from feedback360.extensions import db

Outcome = TypeVar("Outcome")
# What is flashed when an action goes through: words, or words made from its outcome.
Said = str | Callable[[Outcome], str]


@dataclass(frozen=True)
class Done(Generic[Outcome]):
    """An action that went through and was committed, with what it returned."""

    outcome: Outcome


def commit_or_refuse(action: Callable[[], Outcome]) -> Done[Outcome] | DomainError:
    """Run the action and commit; a refusal is rolled back and handed back."""
    try:
        outcome = action()
    except DomainError as error:
        db.session.rollback()
        return error
    db.session.commit()
    return Done(outcome)


def run_action(action: Callable[[], Outcome], done: Said[Outcome], *, near: str = "") -> bool:
    """A button: run the action and commit, flashing `done`; a refusal is flashed instead.

    `done` may be a function of the action's outcome, e.g. the number of invitations sent.
    `near` names the part of the page that shows the message (see `notices` in
    _macros.html), for a page that returns to that part rather than to its top.
    Returns whether the action went through.
    """
    result = commit_or_refuse(action)
    if isinstance(result, DomainError):
        flash(result.message, placed("error", near))
        return False
    _say_done(done, result.outcome, near)
    return True


def run_form_action(
    form: Form, action: Callable[[], Outcome], done: Said[Outcome] | None = None, *, near: str = ""
) -> Done[Outcome] | None:
    """A form: run the action and commit, flashing `done` if given; a refusal is put beside
    its field and None is returned, for the form to be shown again."""
    result = commit_or_refuse(action)
    if isinstance(result, DomainError):
        show_error(form, result)
        return None
    if done is not None:
        _say_done(done, result.outcome, near)
    return result


def placed(kind: str, near: str) -> str:
    """The flash category for a message shown near a part of the page ("info:raters")."""
    return f"{kind}:{near}" if near else kind


def _say_done(done: Said[Outcome], outcome: Outcome, near: str) -> None:
    flash(done(outcome) if callable(done) else done, placed("info", near))


def show_error(form: Form, error: DomainError) -> None:
    """Put a service's refusal next to its field, or at the top of the form."""
    field = form._fields.get(error.field or "")
    (field.errors if field else form.form_errors).append(error.message)  # type: ignore[union-attr]
