"""The messages raters and subjects receive."""

from __future__ import annotations

from feedback360.feedback.models import Invitation
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
