"""The words of each kind of queued mail, made afresh from its objects at every attempt.

Each feature writes its own messages and registers them here by kind (feedback.mails,
reports.mails), so the queue needs to know nothing about invitations or reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from feedback360.mailing.models import QueuedMail


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


class NotNeeded(Exception):
    """The message no longer makes sense (the rater has answered, the cycle has closed)."""


Composer = Callable[[QueuedMail], Message]
COMPOSERS: dict[str, Composer] = {}


def composes(kind: str) -> Callable[[Composer], Composer]:
    """Register the function that writes a kind of mail (raises NotNeeded to skip one)."""

    def register(composer: Composer) -> Composer:
        COMPOSERS[kind] = composer
        return composer

    return register


def compose(mail: QueuedMail) -> Message:
    """The message for a queued mail; raises NotNeeded when it should not go out any more."""
    return COMPOSERS[mail.kind](mail)


def render_mail(template: str, mail_subject: str, *, link: str, **context: Any) -> Message:
    """The text and HTML of a message, from templates/mail/<template>.txt and .html."""
    # Straight from the Jinja environment, not render_template: a mail may be made after a
    # commit, outside any request, and needs none of the page context (signed-in user, CSRF).
    env = current_app.jinja_env
    context = {"link": link, "mail_subject": mail_subject, **context}
    text = env.get_template(f"mail/{template}.txt").render(context)
    html = env.get_template(f"mail/{template}.html").render(context)  # autoescaped by its name
    return Message(mail_subject, text, html)


def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")
