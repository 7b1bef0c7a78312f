"""Who may do what, as small named predicates that read like sentences."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from feedback360.accounts.models import Person
from feedback360.cycles.models import RELEASED
from feedback360.feedback.models import FeedbackRequest


def owns_request(user: Person, request: FeedbackRequest) -> bool:
    return user.is_authenticated and request.subject_id == user.id


def can_view_report(user: Person, request: FeedbackRequest) -> bool:
    """The subject reads their own report once the cycle's reports are released."""
    return owns_request(user, request) and request.cycle.status == RELEASED


def is_admin(user: Person) -> bool:
    return user.is_authenticated and user.is_admin


def coaches(user: Person, request: FeedbackRequest) -> bool:
    """The user is the request's subject's assigned coach."""
    return user.is_authenticated and user.is_coach and request.subject.coach_id == user.id


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in (else to the sign-in page) and an administrator (else 403)."""

    @wraps(view)
    @login_required
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not is_admin(current_user):
            abort(403)
        return view(*args, **kwargs)

    return guarded


def coach_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in and a coach (else 403); which coachees they may see is checked per object."""

    @wraps(view)
    @login_required
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not (current_user.is_authenticated and current_user.is_coach):
            abort(403)
        return view(*args, **kwargs)

    return guarded
