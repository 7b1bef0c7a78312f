"""The message a new person receives to set their password."""

from __future__ import annotations

from feedback360.accounts.models import Person
from feedback360.mailing.transport import send_mail


def send_activation(person: Person, link: str, *, expires: int) -> None:
    body = f"""Dear {person.first_name},

You have an account on feedback360, where you can ask colleagues for feedback on how
you live our values. Your email address to sign in is {person.email}.

Choose your password with this link. It works once and expires in {expires} days:

{link}

If it has expired, ask an administrator to send you a new one. If you did not expect
this message, you can ignore it.

feedback360
"""
    send_mail(person.email, "Set your feedback360 password", body)


def send_password_reset(person: Person, link: str, *, hours: int) -> None:
    body = f"""Dear {person.first_name},

Someone, probably you, asked to choose a new feedback360 password for {person.email}.

Choose it with this link. It works once and expires in {hours} hours:

{link}

If you did not ask, you can ignore this message: your password stays as it is.

feedback360
"""
    send_mail(person.email, "Choose a new feedback360 password", body)
