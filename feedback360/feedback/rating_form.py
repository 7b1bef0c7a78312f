"""The rating form's one job, shared by self-assessment and raters: save or submit answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from feedback360.actions import commit_or_refuse
from feedback360.errors import DomainError
from feedback360.feedback.answers import Answers, answers_from_form
from feedback360.forms import EXPIRED, form_expired
from feedback360.frameworks.snapshots import FrameworkSnapshot, StatementSnapshot, ValueSnapshot


@dataclass(frozen=True)
class RatingPost:
    answers: Answers
    submitted: bool
    error: DomainError | None


def save_or_submit(
    framework: FrameworkSnapshot,
    form: Any,
    save: Callable[[Answers], None],
    submit: Callable[[Answers], None],
) -> RatingPost:
    """Apply the posted answers with `submit` or `save`, committing once or rolling back."""
    answers = answers_from_form(form, framework)
    submitting = form.get("action") == "submit"
    error = save_page(submit if submitting else save, answers)
    return RatingPost(answers, submitting and error is None, error)


# ---------------------------------------------------------------- one value per page


@dataclass(frozen=True)
class ValueProgress:
    """How far the person has got with one value, for the progress list and the summary."""

    number: int
    value: ValueSnapshot
    answered: int
    not_seen: int
    missing: list[StatementSnapshot]
    comment: str

    @property
    def total(self) -> int:
        return len(self.value.statements)


def value_at(framework: FrameworkSnapshot, number: int) -> ValueSnapshot | None:
    """The value shown on page `number` (counting from 1), or None past either end."""
    if 1 <= number <= len(framework.values):
        return framework.values[number - 1]
    return None


def with_page(
    framework: FrameworkSnapshot, draft: Answers, value: ValueSnapshot, form: Any
) -> Answers:
    """The draft with what one value's page posted laid over it.

    A radio button cannot be unchosen, so a rating missing from the post keeps its saved
    answer (a stale tab or a partial post never wipes answers); the comment box is always
    posted, so an emptied box does clear the comment.
    """
    posted = answers_from_form(form, framework)
    own = {statement.id for statement in value.statements}
    ratings = dict(draft.ratings)
    ratings.update({sid: score for sid, score in posted.ratings.items() if sid in own})
    comments = dict(draft.comments)
    if f"c{value.id}" in form:
        comments.pop(value.id, None)
        if value.id in posted.comments:
            comments[value.id] = posted.comments[value.id]
    return Answers(ratings=ratings, comments=comments)


def progress_by_value(framework: FrameworkSnapshot, answers: Answers) -> list[ValueProgress]:
    """Answered, "not seen" and missing statements of every value, in framework order."""
    rows = []
    for number, value in enumerate(framework.values, start=1):
        given = [answers.ratings[s.id] for s in value.statements if s.id in answers.ratings]
        rows.append(
            ValueProgress(
                number=number,
                value=value,
                answered=len(given),
                not_seen=sum(1 for score in given if score is None),
                missing=[s for s in value.statements if s.id not in answers.ratings],
                comment=answers.comments.get(value.id, ""),
            )
        )
    return rows


def page_after(move: str, number: int, pages: int) -> int | None:
    """Where a page's button leads: a value's number, or None for the summary."""
    if move == "previous":
        return max(number - 1, 1)
    if move == "next":
        return number + 1 if number < pages else None
    if move.startswith("value-") and move[6:].isdigit():
        return min(max(int(move[6:]), 1), pages)
    if move == "summary":
        return None
    return number


def save_page(save: Callable[[Answers], None], answers: Answers) -> DomainError | None:
    """Save (or submit) answers with one commit, or roll back and hand back the refusal.
    A page posted with an expired form token stores nothing: it is shown again as posted."""
    if form_expired():
        return DomainError(EXPIRED)
    result = commit_or_refuse(partial(save, answers))
    return result if isinstance(result, DomainError) else None


def autosave_reply(error: DomainError | None) -> ResponseReturnValue:
    """What the page's script hears back: nothing to show, or why the answers were refused."""
    if error is None:
        return "", 204
    return jsonify(error=error.message, field=error.field), 400


def first_unfinished(progress: list[ValueProgress]) -> int | None:
    """The value to carry on from: the first with a statement still to answer, if any."""
    return next((row.number for row in progress if row.missing), None)
