"""Sending queued messages: a chunk at a time over one connection, each claimed before it goes.

A message is claimed by counting its attempt and marking it pending in one UPDATE that only
matches a row nobody else is sending, so two processes never send the same message. A chunk
is claimed, composed, sent, and its outcomes recorded in one commit. If the process dies
after claiming, its messages stay pending with the attempt counted and are sent again once
they are STALE_PENDING old; a message is marked sent only after the server accepted it.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from feedback360.extensions import db
from feedback360.mailing.messages import Message, NotNeeded, compose
from feedback360.mailing.models import FAILED, PENDING, SENT, SKIPPED, QueuedMail
from feedback360.mailing.transport import MailConnection, mail_connection
from feedback360.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_WAIT = timedelta(minutes=5)  # doubled after each failure: 5, 10, 20, 40 minutes
# A claimed message this old was left by a process that stopped before recording it.
STALE_PENDING = timedelta(minutes=10)
# Claimed, sent and recorded together: one commit for many messages, and at most this many
# sent again if the process dies before recording them.
CHUNK = 100
_UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


def deliver(ids: Iterable[int], connection: MailConnection | None = None) -> Counter[str]:
    """Send the queued messages over one connection, recording each outcome on its row.

    Returns how many ended sent, failed and skipped; messages someone else is sending, or
    has sent, are left alone and not counted.
    """
    with ExitStack() as stack:
        if connection is None:
            connection = stack.enter_context(mail_connection())
        session = stack.enter_context(Session(db.engine, expire_on_commit=False))
        delivery = _Delivery(session, connection)
        for chunk in _chunks(list(dict.fromkeys(ids)), CHUNK):
            delivery.send_chunk(chunk)
        return delivery.outcomes


def due_mail_ids(limit: int, now: datetime | None = None) -> list[int]:
    """Messages a worker should send now, oldest first: new ones, stale ones, and failed
    ones whose wait after their last failure is over."""
    now = now or utcnow()
    waited = [
        and_(QueuedMail.attempts == attempts, QueuedMail.last_attempt_at <= now - wait)
        for attempts, wait in enumerate(_waits(), start=1)
    ]
    due = or_(_unclaimed_pending(now), and_(QueuedMail.status == FAILED, or_(*waited)))
    query = select(QueuedMail.id).where(due).order_by(QueuedMail.id).limit(limit)
    with Session(db.engine) as session:  # its own, short: on SQLite a transaction locks
        return list(session.scalars(query))


def is_due(mail: QueuedMail, now: datetime, *, by_hand: bool) -> bool:
    """Whether `feedback360 mail retry` should send this unsent message now."""
    last = mail.last_attempt_at or mail.created_at
    if mail.status == PENDING:  # perhaps being delivered right now by the process that queued it
        return now - last >= STALE_PENDING
    if by_hand:
        return True
    return mail.attempts < MAX_ATTEMPTS and now - last >= FIRST_WAIT * 2 ** (mail.attempts - 1)


def _waits() -> Iterator[timedelta]:
    """The wait after each failed attempt before cron tries again, up to the last attempt."""
    for attempts in range(1, MAX_ATTEMPTS):
        yield FIRST_WAIT * 2 ** (attempts - 1)


def _claimable(now: datetime) -> ColumnElement[bool]:
    """A row nobody is sending: failed, never tried, or claimed by a process long gone."""
    return or_(QueuedMail.status == FAILED, _unclaimed_pending(now))


def _unclaimed_pending(now: datetime) -> ColumnElement[bool]:
    return and_(
        QueuedMail.status == PENDING,
        or_(QueuedMail.attempts == 0, QueuedMail.last_attempt_at <= now - STALE_PENDING),
    )


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class _Delivery:
    """One run of `deliver`: its session and connection, and what became of the messages."""

    def __init__(self, session: Session, connection: MailConnection) -> None:
        self.session = session
        self.connection = connection
        self.outcomes: Counter[str] = Counter()
        # Once the server cannot be reached, the rest fail at once instead of each waiting.
        self.unreachable: Exception | None = None

    def send_chunk(self, ids: list[int]) -> None:
        claimed = self._claim(ids)
        if not claimed:
            return
        query = (
            select(QueuedMail)
            .where(QueuedMail.id.in_(claimed))
            .order_by(QueuedMail.id)
            .options(
                selectinload(QueuedMail.invitation),
                selectinload(QueuedMail.request),
                selectinload(QueuedMail.person),
            )
        )
        composed = [(mail, self._compose(mail)) for mail in self.session.scalars(query)]
        self.session.commit()  # no transaction (on SQLite, no lock) while the server answers
        for mail, message in composed:
            if message is not None:
                self._send(mail, message)
            self.outcomes[mail.status] += 1
        self.session.commit()
        self.session.expunge_all()  # the rows of one chunk are not needed for the next

    def _claim(self, ids: list[int]) -> list[int]:
        """Count an attempt on each message nobody else is sending; return those claimed."""
        now = utcnow()
        statement = (
            update(QueuedMail)
            .where(QueuedMail.id.in_(ids), _claimable(now))
            .values(status=PENDING, attempts=QueuedMail.attempts + 1, last_attempt_at=now)
            .returning(QueuedMail.id)
            .execution_options(synchronize_session=False)
        )
        claimed = list(self.session.scalars(statement))
        self.session.commit()
        return claimed

    def _compose(self, mail: QueuedMail) -> Message | None:
        try:
            return compose(mail)
        except NotNeeded as reason:
            mail.status, mail.last_error = SKIPPED, f"Not needed: {reason}"
        except Exception as failure:  # recorded on the row, never raised
            self._failed(mail, failure)
        return None

    def _send(self, mail: QueuedMail, message: Message) -> None:
        try:
            if self.unreachable is not None:
                raise self.unreachable
            self.connection.send(mail.to_address, message.subject, message.text, html=message.html)
        except Exception as failure:  # recorded on the row, never raised
            self._failed(mail, failure)
            if isinstance(failure, _UNREACHABLE):
                self.unreachable = failure
        else:
            mail.status, mail.last_error, mail.sent_at = SENT, "", utcnow()

    def _failed(self, mail: QueuedMail, failure: Exception) -> None:
        mail.status, mail.last_error = FAILED, f"{type(failure).__name__}: {failure}"[:1000]
        log.warning("Mail #%s (%s) to %s failed: %s", mail.id, mail.kind, mail.to_address, failure)
