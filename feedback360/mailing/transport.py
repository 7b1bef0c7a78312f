"""Outgoing mail through one small interface: an outbox folder by default, SMTP when set.

A batch of messages goes through one connection (`mail_connection`): opening an SMTP
session costs more than sending a message over it, and a large cycle sends tens of
thousands.
"""

from __future__ import annotations

import contextlib
import email.policy
import functools
import logging
import secrets
import smtplib
import uuid
from collections.abc import Iterator
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

from feedback360.timeutil import utcnow

log = logging.getLogger(__name__)


class _Headers(HeaderRegistry):
    """The standard header registry, remembering what it made. The standard one builds a
    new class each time a header is set, then parses the value; most of a message's headers
    are the same in every message (From, its parts' Content-Type), and parsing them again
    is most of the cost of writing one. Headers are immutable, so one can serve many."""

    @functools.cache  # noqa: B019 (one registry for the life of the process)
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)

    @functools.lru_cache(maxsize=256)  # noqa: B019 (the same)
    def __call__(self, name: str, value: str) -> BaseHeader:
        return super().__call__(name, value)


# The policy an EmailMessage has by default, with the registry above: the same bytes out.
_POLICY = email.policy.default.clone(header_factory=_Headers())


class MailConnection(Protocol):
    def send(self, to: str, subject: str, body: str, *, html: str | None = None) -> None:
        """Send one message; raises OSError (smtplib's errors included) if it cannot go."""


def send_mail(to: str, subject: str, body: str, *, html: str | None = None) -> None:
    """Send a message with the configured backend: plain text, with an HTML alternative if given.

    Raises OSError (smtplib's errors included) when the message cannot be delivered.
    """
    with mail_connection() as connection:
        connection.send(to, subject, body, html=html)


@contextlib.contextmanager
def mail_connection() -> Iterator[MailConnection]:
    """One connection to the configured backend for as many messages as the caller sends."""
    config = current_app.config
    if config["MAIL_BACKEND"] != "smtp":
        yield Outbox(config)
        return
    connection = SmtpConnection(config)
    try:
        yield connection
    finally:
        connection.close()


def _message(config: Any, to: str, subject: str, body: str, html: str | None) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="feedback360.local")
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
        # Chosen here, after the words, so no text can hold it; left to the generator, it
        # compiles a new regular expression for every message to check that.
        message.set_boundary(f"==={secrets.token_hex(16)}==")
    return message


class Outbox:
    """Each message saved as a file in MAIL_OUTBOX_DIR, for development and tests."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.folder = Path(config["MAIL_OUTBOX_DIR"])

    def send(self, to: str, subject: str, body: str, *, html: str | None = None) -> None:
        path = _write_outbox(_message(self.config, to, subject, body, html), self.folder)
        # The path only: a personal link in a log would let anyone reading it answer as the
        # rater. The link is in the saved message.
        log.warning("Mail to %s saved as %s", to, path)


def _write_outbox(message: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    # Named to sort in the order sent (to the microsecond), as a reader of the folder expects.
    path = outbox / f"{utcnow():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(message))
    return path


class SmtpConnection:
    """One SMTP session, opened at the first message and kept for the rest.

    A server may drop a session at any time (an idle timeout, a restart, a limit of messages
    per session): the message being sent then goes through a new session, once.
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, to: str, subject: str, body: str, *, html: str | None = None) -> None:
        message = _message(self.config, to, subject, body, html)
        try:
            self._send(message)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as error:
            if not _closed_by_server(error):
                raise
            # The server closed the session before taking the message: resend it on a new one.
            self.close()
            self._send(message)

    def _send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            self.smtp = self._open()
        try:
            self.smtp.send_message(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # refused in a reply; smtplib has reset the session for the next message
        except BaseException:
            self.close()  # a session broken halfway through a message is not used again
            raise

    def _open(self) -> smtplib.SMTP:
        config = self.config
        smtp = smtplib.SMTP(
            config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=float(config["SMTP_TIMEOUT"])
        )
        try:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        """Say goodbye to the server if it is still listening, and close the socket."""
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):  # already gone: nothing to say goodbye to
            smtp.close()


def _closed_by_server(error: Exception) -> bool:
    """Whether the server dropped the session, or closed it with 421 (a server going down,
    or one that limits the messages of a session)."""
    return isinstance(error, smtplib.SMTPServerDisconnected) or (
        isinstance(error, smtplib.SMTPResponseException) and error.smtp_code == 421
    )
