"""The words of each kind of queued mail, made afresh from its objects at every attempt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app

from feedback360.feedback.links import rater_link
from feedback360.feedback.models import Invitation
from feedback360.groups import LINE_MANAGER
from feedback360.mailing.models import (
    APPROVAL_REQUEST,
    INVITATION,
    REMINDER,
    REPORT_READY,
    QueuedMail,
)
from feedback360.timeutil import long_date


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


class NotNeeded(Exception):
    """The message no longer makes sense (the rater has answered, the cycle has closed)."""


def compose(mail: QueuedMail) -> Message:
    """The message for a queued mail; raises NotNeeded when it should not go out any more."""
    return COMPOSERS[mail.kind](mail)


def _invitation(mail: QueuedMail) -> Message:
    invitation = _open_invitation(mail)
    request = invitation.request
    cycle = request.cycle
    manager_shown = invitation.group == LINE_MANAGER and cycle.manager_identifiable
    return _render(
        "invitation",
        f"{request.subject.name} asks for your feedback",
        link=rater_link(invitation),
        rater_first_name=_first_name(invitation.name),
        subject=request.subject,
        cycle=cycle,
        closes_on=_date(cycle.closes_on),
        manager_shown=manager_shown,
    )


def _reminder(mail: QueuedMail) -> Message:
    invitation = _open_invitation(mail)
    request = invitation.request
    return _render(
        "reminder",
        f"Reminder: {request.subject.name} asks for your feedback",
        link=rater_link(invitation),
        rater_first_name=_first_name(invitation.name),
        subject=request.subject,
        cycle=request.cycle,
        closes_on=_date(request.cycle.closes_on),
    )


def _report_ready(mail: QueuedMail) -> Message:
    request, reader = mail.request, mail.person
    if request is None or reader is None:
        raise NotNeeded("the report or its reader no longer exists")
    own = reader.id == request.subject_id
    whose = "Your" if own else f"{request.subject.name}'s"
    return _render(
        "report_ready",
        f"{whose} feedback report is ready",
        link=f"{_base_url()}/",
        reader=reader,
        subject=request.subject,
        own=own,
    )


def _approval_request(mail: QueuedMail) -> Message:
    request, manager = mail.request, mail.person
    if request is None or manager is None:
        raise NotNeeded("the request or the line manager no longer exists")
    if request.approval == "approved":
        raise NotNeeded("the raters have been approved already")
    return _render(
        "approval_request",
        f"Please approve {request.subject.name}'s raters",
        link=f"{_base_url()}/approvals/{request.id}",
        manager=manager,
        subject=request.subject,
    )


COMPOSERS: dict[str, Callable[[QueuedMail], Message]] = {
    INVITATION: _invitation,
    REMINDER: _reminder,
    REPORT_READY: _report_ready,
    APPROVAL_REQUEST: _approval_request,
}


def _open_invitation(mail: QueuedMail) -> Invitation:
    invitation = mail.invitation
    if invitation is None:
        raise NotNeeded("the invitation no longer exists")
    if invitation.is_finished:
        raise NotNeeded("the rater has already answered or declined")
    if not invitation.request.cycle.is_open:
        raise NotNeeded("the cycle is no longer open")
    return invitation


def _render(template: str, mail_subject: str, *, link: str, **context: Any) -> Message:
    # Straight from the Jinja environment, not render_template: a mail may be made after a
    # commit, outside any request, and needs none of the page context (signed-in user, CSRF).
    env = current_app.jinja_env
    context = {"link": link, "mail_subject": mail_subject, **context}
    text = env.get_template(f"mail/{template}.txt").render(context)
    html = env.get_template(f"mail/{template}.html").render(context)  # autoescaped by its name
    return Message(mail_subject, text, html)


def _first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def _date(day: date | None) -> str | None:
    return long_date(day) if day else None


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")
