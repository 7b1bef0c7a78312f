"""The message telling a subject, or their coach, that the subject's report can be read.

Queued in the release's transaction (see feedback360.mailing.services); its words are made
when it goes out, by the composer registered below, from templates/mail/.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedback360.accounts.models import Person
from feedback360.feedback.models import FeedbackRequest
from feedback360.mailing.messages import Message, NotNeeded, base_url, composes, render_mail
from feedback360.mailing.models import REPORT_READY, QueuedMail
from feedback360.mailing.services import queue_mails


def send_reports_ready(readers: Sequence[tuple[FeedbackRequest, Person]]) -> None:
    """Tell each subject, or their coach, that the subject's report can be read."""
    queue_mails(
        [
            {
                "kind": REPORT_READY,
                "to_address": reader.email,
                "request_id": feedback_request.id,
                "person_id": reader.id,
            }
            for feedback_request, reader in readers
        ]
    )


@composes(REPORT_READY)
def _report_ready(mail: QueuedMail) -> Message:
    feedback_request, reader = mail.request, mail.person
    if feedback_request is None or reader is None:
        raise NotNeeded("the report or its reader no longer exists")
    own = reader.id == feedback_request.subject_id
    whose = "Your" if own else f"{feedback_request.subject.name}'s"
    return render_mail(
        "report_ready",
        f"{whose} feedback report is ready",
        link=f"{base_url()}/",
        reader=reader,
        subject=feedback_request.subject,
        own=own,
    )
