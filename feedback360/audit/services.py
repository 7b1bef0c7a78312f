"""Writing and reading the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_login import current_user

from feedback360.audit.models import AuditEntry
from feedback360.extensions import db

if TYPE_CHECKING:  # the audit log sits below accounts: the type only
    from feedback360.accounts.models import Person


def record(action: str, target: str = "", detail: str = "", *, actor: Person | None = None) -> None:
    """Add an entry in the current transaction: it is kept only if the action is.

    The actor is the signed-in person unless given; None (a cron command) is "system".
    """
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    db.session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))
