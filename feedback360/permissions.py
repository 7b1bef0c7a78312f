"""The roles a page asks for: an administrator, a coach (requests: feedback.permissions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from feedback360.accounts.models import Person


def is_admin(user: Person) -> bool:
    return user.is_authenticated and user.is_admin


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
