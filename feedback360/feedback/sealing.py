"""A rater's answers in progress, sealed under a key per cycle that the database never holds.

Until a cycle closes, a rater's draft and then their submitted answers stay with their
invitation, encrypted (AES-GCM) under the cycle's answer key. The key is a random file in
ANSWER_KEYS_DIR (the instance folder unless configured), named by an id the cycle keeps: a
copy of the database, or a backup of it, cannot read the answers, with or without the app's
secret key. When the cycle closes the answers are written out cut from the raters and the
key is destroyed, so from then on nothing sealed under it can be read, whatever copy of the
database anyone kept.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from feedback360.errors import DomainError

FORMAT = b"\x01"  # the first byte of every sealed value: AES-256-GCM, 12-byte nonce
NONCE_BYTES = 12
KEY_BYTES = 32


class AnswersUnreadable(DomainError):
    """Sealed answers whose key is missing or which were not sealed for this invitation."""

    def __init__(self) -> None:
        super().__init__(
            "Answers saved for this link cannot be read back: the cycle's answer key is missing "
            "on the server. Please tell the administrator of feedback360; nothing you saved has "
            "been shown to anyone."
        )


def keys_dir() -> Path:
    configured = current_app.config.get("ANSWER_KEYS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "answer-keys"


def _key_path(key_id: str) -> Path:
    if len(key_id) != 32 or not all(c in "0123456789abcdef" for c in key_id):
        raise ValueError(f"Not an answer key id: {key_id!r}")
    return keys_dir() / f"{key_id}.key"


def _key(key_id: str) -> bytes | None:
    try:
        return _key_path(key_id).read_bytes()
    except FileNotFoundError:
        return None


def make_key(key_id: str) -> None:
    """Make the cycle's key unless it exists. Written whole under another name, then linked
    into place, which fails if it is there already: two workers making it at once keep one,
    and a worker reading it never meets a file half written."""
    path = _key_path(key_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        return
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-", suffix=".key")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(AESGCM.generate_key(bit_length=KEY_BYTES * 8))
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass  # another worker's key is in place, whole
    finally:
        os.unlink(temporary)


def has_key(key_id: str) -> bool:
    return _key_path(key_id).is_file()


def seal(key_id: str, invitation_id: int, answers: dict[str, Any]) -> bytes:
    """The answers encrypted for this invitation alone (its id is bound in, so a sealed value
    moved to another invitation does not open)."""
    key = _key(key_id)
    if key is None:
        raise AnswersUnreadable
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(answers, separators=(",", ":")).encode()
    return FORMAT + nonce + AESGCM(key).encrypt(nonce, plain, _bound(invitation_id))


def unseal(key_id: str, invitation_id: int, sealed: bytes) -> dict[str, Any]:
    """The answers sealed for this invitation; AnswersUnreadable if they cannot be read."""
    key = _key(key_id)
    if key is None or not sealed.startswith(FORMAT):
        raise AnswersUnreadable
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        plain = AESGCM(key).decrypt(nonce, body, _bound(invitation_id))
    except InvalidTag as error:
        raise AnswersUnreadable from error
    return json.loads(plain)


def destroy_key(key_id: str) -> None:
    """Overwrite and remove the cycle's key; whatever was sealed under it is unreadable now."""
    path = _key_path(key_id)
    try:
        with path.open("r+b") as file:
            file.write(os.urandom(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        path.unlink()
    except FileNotFoundError:
        pass


def _bound(invitation_id: int) -> bytes:
    return f"feedback360 invitation {invitation_id}".encode()
