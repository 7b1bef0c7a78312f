"""People changing their own password: from a link mailed on request ("Forgot your
password?"), or signed in, by giving the current one."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from feedback360.accounts import mails
from feedback360.accounts.activation import issue_password_token, password_link
from feedback360.accounts.models import Person
from feedback360.accounts.passwords import check_new_password
from feedback360.accounts.services import normalise_email, person_by_email
from feedback360.accounts.sign_in_methods import password_sign_in_allowed
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.timeutil import utcnow

log = logging.getLogger(__name__)

# Shorter than a new person's link: whoever reads the mailbox can take the account with it.
RESET_LINK_LIFETIME = timedelta(hours=2)
RESEND_AFTER = timedelta(minutes=10)
SENT = (
    "If that address belongs to an account here, a link to choose a new password is on its "
    f"way to it. The link works once, for {RESET_LINK_LIFETIME.seconds // 3600} hours."
)


def send_reset_link(email: str) -> None:
    """Mail a new set-password link to the active person with this address, if there is one
    who may sign in with a password; otherwise nothing. Commits: the link's hash must be kept
    before it is sent. Whoever asked is told the same either way (SENT)."""
    try:
        person = person_by_email(normalise_email(email))
    except DomainError:
        return
    if person is None or not person.active or not password_sign_in_allowed(person):
        return
    if _asked_lately(person):
        return  # the link sent a moment ago still works: no second mail to fill the inbox
    token = issue_password_token(person, RESET_LINK_LIFETIME)
    db.session.commit()
    hours = RESET_LINK_LIFETIME.seconds // 3600
    try:
        mails.send_password_reset(person, password_link(token), hours=hours)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send a new-password link to person %s", person.id)


def _asked_lately(person: Person) -> bool:
    """A reset link went out in the last ten minutes (a new person's longer link does not
    count: they may have lost it)."""
    expires = person.password_token_expires_at
    now = utcnow()
    return expires is not None and now + RESET_LINK_LIFETIME - RESEND_AFTER < expires <= (
        now + RESET_LINK_LIFETIME
    )


def change_password(person: Person, current: str, new: str) -> Person:
    """A signed-in person sets a new password, giving the current one; every other session
    of theirs ends (the caller signs this one in again)."""
    if not password_sign_in_allowed(person):
        raise DomainError("You sign in with your organisation account, not a password.")
    if not person.check_password(current):
        raise DomainError("That is not your current password.", "current")
    check_new_password(new)
    if person.check_password(new):
        raise DomainError("That is your current password. Choose a new one.", "password")
    person.set_password(new)
    person.password_token_hash = person.password_token_expires_at = None
    person.end_sessions()
    return person
