"""The rating form's one job, shared by self-assessment and raters: save or submit answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.answers import Answers, answers_from_form
from feedback360.frameworks.models import Framework


@dataclass(frozen=True)
class RatingPost:
    answers: Answers
    submitted: bool
    error: DomainError | None


def save_or_submit(
    framework: Framework,
    form: Any,
    save: Callable[[Answers], None],
    submit: Callable[[Answers], None],
) -> RatingPost:
    """Apply the posted answers with `submit` or `save`, committing once or rolling back."""
    answers = answers_from_form(form, framework)
    submitting = form.get("action") == "submit"
    try:
        (submit if submitting else save)(answers)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return RatingPost(answers, False, error)
    return RatingPost(answers, submitting, None)
