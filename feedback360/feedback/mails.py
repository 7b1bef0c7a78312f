"""The messages raters and subjects receive."""

from __future__ import annotations

from flask import current_app

from feedback360.accounts.models import Person
from feedback360.feedback.models import FeedbackRequest, Invitation
from feedback360.mail import send_mail
from feedback360.reports.results import LINE_MANAGER


def send_invitation(invitation: Invitation, link: str) -> None:
    request = invitation.request
    cycle = request.cycle
    subject = request.subject
    deadline = f" by {cycle.closes_on:%-d %B %Y}" if cycle.closes_on else ""
    if invitation.group == LINE_MANAGER and cycle.manager_identifiable:
        privacy = (
            "As line manager, your ratings are shown on their own, so "
            f"{subject.first_name} will know they are yours."
        )
    else:
        privacy = (
            "Your answers are anonymous: they are combined with other raters' and shown only "
            f"where at least {cycle.anonymity_threshold} people have answered."
        )
    first_name = invitation.name.split()[0] if invitation.name.split() else invitation.name
    body = f"""Dear {first_name},

{subject.name} has asked you for feedback on how they live our values, as part of
“{cycle.name}”. It takes about {cycle.framework.minutes_to_rate} minutes. Please answer{deadline}.

Open your personal link:

{link}

{privacy} The first page of the link says exactly what {subject.first_name} will and will not see.

Please do not forward this message: the link is yours alone.

feedback360
"""
    send_mail(invitation.email, f"{subject.name} asks for your feedback", body, link=link)


def send_reminder(invitation: Invitation) -> None:
    from feedback360.feedback.services import rater_link  # services import this module

    link = rater_link(invitation)
    request = invitation.request
    cycle = request.cycle
    deadline = f" The cycle closes on {cycle.closes_on:%-d %B %Y}." if cycle.closes_on else ""
    body = f"""Dear {_first_name(invitation.name)},

A reminder: {request.subject.name} would value your feedback, as part of “{cycle.name}”.
It takes about {cycle.framework.minutes_to_rate} minutes.{deadline}

Your personal link (anything you have already entered is kept):

{link}

If you would rather not give feedback, the link lets you decline, and you will not be
reminded again.

feedback360
"""
    send_mail(
        invitation.email,
        f"Reminder: {request.subject.name} asks for your feedback",
        body,
        link=link,
    )


def send_report_ready(request: FeedbackRequest, reader: Person) -> None:
    """Tell the subject, or their coach, that the subject's report can be read."""
    whose = "Your" if reader.id == request.subject_id else f"{request.subject.name}'s"
    body = f"""Dear {reader.first_name},

{whose} 360-degree feedback report is ready. Sign in to read it or download the PDF:

{_base_url()}/

feedback360
"""
    send_mail(reader.email, f"{whose} feedback report is ready", body)


def send_approval_request(request: FeedbackRequest) -> None:
    """Ask the subject's line manager to approve the raters they have nominated."""
    manager = request.subject.line_manager
    if manager is None:
        return
    body = f"""Dear {manager.first_name},

{request.subject.name} has nominated raters for their 360-degree feedback. Please check the
list, change it if you need to, and approve it so the invitations can go out:

{_base_url()}/approvals/{request.id}

feedback360
"""
    send_mail(manager.email, f"Please approve {request.subject.name}'s raters", body)


def _first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")
