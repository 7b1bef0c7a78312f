"""Set-password links for the people an import adds, queued as mail in the import's
transaction and sent afterwards, however many there are.

The link is never stored: like a rater's link it is derived from the secret key and the
queued message's id, so a message tried again sends the same link, and the database keeps
only its hash (on the person, as for a link an administrator sends by hand).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Sequence

from flask import current_app

from feedback360.accounts.activation import LINK_LIFETIME, password_link
from feedback360.accounts.models import Person
from feedback360.accounts.sign_in_methods import password_sign_in_allowed
from feedback360.mailing.messages import Message, NotNeeded, composes, render_mail
from feedback360.mailing.models import QueuedMail
from feedback360.mailing.services import queue_mails
from feedback360.timeutil import utcnow

SET_PASSWORD = "set_password"  # noqa: S105 (a kind of mail, not a password)
BATCH = 1000  # rows inserted at a time


def queue_set_password_mails(
    people: Sequence[Person], progress: Callable[[int], None] | None = None
) -> list[int]:
    """Queue a set-password link for each (flushed) person; the ids of the queued mail.

    Each person's earlier link stops working. Nothing is sent until the caller commits and
    hands the ids to the mail queue's delivery.
    """
    ids: list[int] = []
    expires = utcnow() + LINK_LIFETIME
    for start in range(0, len(people), BATCH):
        batch = people[start : start + BATCH]
        rows = [
            {"kind": SET_PASSWORD, "to_address": person.email, "person_id": person.id}
            for person in batch
        ]
        made = queue_mails(rows, send_after_commit=False)  # the import job sends them
        for person, mail_id in zip(batch, made, strict=True):
            person.password_token_hash = _hash(_token(mail_id))
            person.password_token_expires_at = expires
        ids += made
        if progress is not None:
            progress(len(ids))
    return ids


@composes(SET_PASSWORD)
def _set_password(mail: QueuedMail) -> Message:
    person = mail.person
    if person is None:
        raise NotNeeded("the person no longer exists")
    if not person.active:
        raise NotNeeded("they have been deactivated")
    if not password_sign_in_allowed(person):
        raise NotNeeded("they sign in with their organisation account")
    token = _token(mail.id)
    if person.password_token_hash != _hash(token):
        raise NotNeeded("a newer link was sent, or they have chosen their password")
    expires = person.password_token_expires_at
    if expires is None or expires <= utcnow():
        raise NotNeeded("the link has expired")
    return render_mail(
        "set_password",
        "Set your feedback360 password",
        link=password_link(token),
        person=person,
        expires=LINK_LIFETIME.days,
    )


def _token(mail_id: int) -> str:
    """The link's 256-bit token: from the secret key and the message's id, never stored."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"set-password:{mail_id}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(token: str) -> str:
    # As accounts.activation keeps a token: a set-password link is looked up by this hash.
    return hashlib.sha256(token.encode()).hexdigest()
