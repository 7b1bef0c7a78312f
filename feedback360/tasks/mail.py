"""Queued mail on Celery workers: delivery after the queuing transaction commits, and retries.

Each message is claimed on its row before it is sent (see mailing.delivery), so a task run
twice, or beside `feedback360 mail worker`, sends nothing twice. The delivery task is
acknowledged as it starts: if its worker dies mid-send, the row stays pending and the next
retry sends it, as without Celery.
"""

from __future__ import annotations

from celery import shared_task

from feedback360.audit.services import record
from feedback360.background import DELIVER_MAIL_TASK, RETRY_MAIL_TASK
from feedback360.extensions import db
from feedback360.mailing.services import deliver, retry_failed
from feedback360.wording import counted

DELIVER_TASK = DELIVER_MAIL_TASK


@shared_task(name=DELIVER_TASK, acks_late=False, ignore_result=True)
def deliver_mail(mail_ids: list[int]) -> None:
    """Send these queued messages now over one connection, recording each outcome on its row."""
    deliver(mail_ids)


@shared_task(name=RETRY_MAIL_TASK, acks_late=False, ignore_result=True)
def retry_mail() -> int:
    """Send again the failed messages that are due (as `feedback360 mail retry` does)."""
    tried = retry_failed()
    if tried:
        record("mail.retry", "all cycles", f"{counted(len(tried), 'message')}, by a worker")
    db.session.commit()  # the messages are sent as this commits
    return len(tried)
