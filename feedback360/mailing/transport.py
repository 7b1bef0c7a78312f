"""Outgoing mail through one small interface: an outbox folder by default, SMTP when set."""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

from feedback360.timeutil import utcnow

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str, *, html: str | None = None) -> None:
    """Send a message with the configured backend: plain text, with an HTML alternative if given.

    Raises OSError (smtplib's errors included) when the message cannot be delivered.
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="feedback360.local")
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if config["MAIL_BACKEND"] == "smtp":
        _send_smtp(message)
    else:
        path = _write_outbox(message, Path(config["MAIL_OUTBOX_DIR"]))
        # The path only: a personal link in a log would let anyone reading it answer as the
        # rater. The link is in the saved message.
        log.warning("Mail to %s saved as %s", to, path)


def _write_outbox(message: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    # Named to sort in the order sent (to the microsecond), as a reader of the folder expects.
    path = outbox / f"{utcnow():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(message))
    return path


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(
        config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=float(config["SMTP_TIMEOUT"])
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)
