"""The mail queue: every message is a row first, delivered after commit, retried when it fails.

Why after commit: a message must never report something the database then forgets (an
invitation whose link leads nowhere because its transaction rolled back). So queueing only
adds a row to the caller's transaction and notes its id on the session; once that
transaction commits, the noted rows are delivered at once, through a session of their own
that records each outcome (sent, or failed with the error). If the transaction rolls back,
the rows vanish with it and nothing is sent. If the process dies between commit and
delivery, the row stays pending and `feedback360 mail retry` (or `feedback360 mail worker`)
sends it later. How a message is claimed and sent is in mailing.delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app, has_request_context
from sqlalchemy import Select, event, func, insert
from sqlalchemy.orm import Session, SessionTransaction

from feedback360.background import DELIVER_MAIL_TASK, celery_app
from feedback360.extensions import db
from feedback360.mailing.delivery import (  # noqa: F401  (FIRST_WAIT: part of this interface)
    FIRST_WAIT,
    MAX_ATTEMPTS,
    deliver,
    is_due,
)
from feedback360.mailing.models import FAILED, PENDING, STATUSES, QueuedMail
from feedback360.processes import start_command
from feedback360.timeutil import utcnow

if TYPE_CHECKING:  # the queue sits below the features whose rows it names: types only
    from feedback360.accounts.models import Person
    from feedback360.cycles.models import Cycle
    from feedback360.feedback.models import FeedbackRequest, Invitation

log = logging.getLogger(__name__)

_TO_DELIVER = "feedback360.mail_to_deliver"  # key in Session.info
_ROWS_PER_INSERT = 1000


def queue_mail(
    kind: str,
    to_address: str,
    *,
    invitation: Invitation | None = None,
    request: FeedbackRequest | None = None,
    person: Person | None = None,
) -> QueuedMail:
    """Add a message to the queue in the current transaction; it is sent once that commits."""
    if invitation is not None and request is None:
        request = invitation.request
    mail = QueuedMail(
        kind=kind, to_address=to_address, invitation=invitation, request=request, person=person
    )
    db.session.add(mail)
    db.session.flush()
    _deliver_after_commit([mail.id])
    return mail


def queue_mails(rows: Sequence[dict[str, object]], *, send_after_commit: bool = True) -> list[int]:
    """Queue many messages at once (each row: kind, to_address and the ids it names), in
    inserts of a thousand rather than a flush each; sent once the caller commits, unless the
    caller hands them to `deliver` itself. Their ids, in the order given."""
    ids: list[int] = []
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        ids += db.session.scalars(
            insert(QueuedMail).returning(QueuedMail.id, sort_by_parameter_order=True),
            rows[start : start + _ROWS_PER_INSERT],
        ).all()
    if send_after_commit:
        _deliver_after_commit(ids)
    return ids


def retry_failed(
    cycle: Cycle | None = None, *, by_hand: bool = False, now: datetime | None = None
) -> list[QueuedMail]:
    """Queue again the failed messages that are due; they are sent once the caller commits.

    From cron, a message waits longer after each failure and is given up after
    MAX_ATTEMPTS (it stays failed and listed). By hand (an administrator's "Retry", say
    after the mail server was mended) every failed message is tried at once.
    """
    now = now or utcnow()
    due = [mail for mail in _unsent(cycle) if is_due(mail, now, by_hand=by_hand)]
    _deliver_after_commit([mail.id for mail in due])
    return due


def failed_mail(cycle: Cycle | None = None) -> list[QueuedMail]:
    """Messages whose last attempt failed, oldest first (of one cycle, or of all)."""
    query = _in_cycle(db.select(QueuedMail), cycle).where(QueuedMail.status == FAILED)
    return list(db.session.execute(query.order_by(QueuedMail.created_at)).scalars())


def mail_counts(cycle: Cycle | None = None) -> dict[str, int]:
    """How many messages are pending, sent, failed and skipped (of one cycle, or of all)."""
    query = _in_cycle(db.select(QueuedMail.status, func.count()), cycle)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(
        {status: n for status, n in db.session.execute(query.group_by(QueuedMail.status))}
    )
    return counts


def given_up(mail: QueuedMail) -> bool:
    """True for a failed message cron no longer retries (an administrator still can)."""
    return mail.status == FAILED and mail.attempts >= MAX_ATTEMPTS


def _unsent(cycle: Cycle | None) -> list[QueuedMail]:
    query = _in_cycle(db.select(QueuedMail), cycle)
    query = query.where(QueuedMail.status.in_((PENDING, FAILED))).order_by(QueuedMail.id)
    return list(db.session.execute(query).scalars())


def _in_cycle(query: Select[Any], cycle: Cycle | None) -> Select[Any]:
    if cycle is None:
        return query
    return query.where(QueuedMail.request.has(cycle_id=cycle.id))


def _deliver_after_commit(ids: Iterable[int]) -> None:
    db.session.info.setdefault(_TO_DELIVER, []).extend(ids)


@event.listens_for(db.session, "after_commit")
def _deliver_committed(session: Session) -> None:
    ids = session.info.pop(_TO_DELIVER, [])
    if not ids:
        return
    try:
        deliver_soon(ids)
    except Exception:  # the caller's work is committed and must not be reported as failed
        log.exception("Mail delivery stopped; the rest stays queued for `feedback360 mail retry`")


def deliver_soon(ids: list[int]) -> None:
    """Hand the messages to a Celery worker when a broker is configured, else send them now;
    more than MAIL_IN_REQUEST_LIMIT queued by a web request, from a mail worker's process."""
    celery = celery_app()
    if celery is not None:
        from kombu.exceptions import OperationalError as BrokerUnreachable  # only with Celery

        try:
            celery.send_task(DELIVER_MAIL_TASK, args=[ids], ignore_result=True)
            return
        except BrokerUnreachable as error:  # the messages still go, from here
            log.warning("The task queue cannot be reached (%s); sending mail here", error)
    if has_request_context() and len(ids) > current_app.config["MAIL_IN_REQUEST_LIMIT"]:
        # Thousands of messages would outlast the web server's time-out; the worker claims
        # each before sending, so it is safe beside any other sender.
        pid = start_command(["mail", "worker", "--once"], "mail/worker.log")
        log.info("%d messages left to a mail worker, process %d", len(ids), pid)
        return
    deliver(ids)


@event.listens_for(db.session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # Ids noted in a transaction that rolled back (or was closed) name rows that never were.
    if transaction.parent is None:
        session.info.pop(_TO_DELIVER, None)
