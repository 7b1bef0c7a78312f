"""A rater's personal link: made from a nonce and the secret key, so the database never
holds one, yet a reminder can send the same link again."""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app

from feedback360.errors import DomainError
from feedback360.feedback.models import Invitation


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rater_token(invitation: Invitation) -> str:
    """The invitation's link token: 256 bits derived from its random nonce and the secret key.

    The database keeps the nonce and the token's hash, never the token, yet a reminder can
    send the same link again. Changing the secret key makes every open link stop working.
    """
    if not invitation.token_nonce:
        raise DomainError(f"{invitation.name} has no personal link yet.")
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"rater-link:{invitation.token_nonce}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def rater_link(invitation: Invitation) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/r/{rater_token(invitation)}"
