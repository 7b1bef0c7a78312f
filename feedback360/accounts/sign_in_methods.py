"""Which ways of signing in this site offers, and to whom: single sign-on, passwords."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from feedback360.accounts.models import Person

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_on(config: Mapping[str, Any]) -> bool:
    return bool(config.get("OIDC_ISSUER"))


def passwords_replaced(config: Mapping[str, Any] | None = None) -> bool:
    """Single sign-on is on and password sign-in is off (but for administrators)."""
    config = current_app.config if config is None else config
    return is_on(config) and not config.get("PASSWORD_SIGN_IN", True)


def password_sign_in_allowed(person: Person) -> bool:
    """Everyone, unless single sign-on replaces passwords; administrators always, so that
    someone can still sign in, and put things right, while the provider is down."""
    return person.is_admin or not passwords_replaced()


def provider_origin(config: Mapping[str, Any]) -> str:
    """The provider's scheme and host (where sign-in and sign-out forms lead), or ''."""
    if not is_on(config):
        return ""
    parts = urlsplit(str(config["OIDC_ISSUER"]))
    return f"{parts.scheme}://{parts.netloc}"


def check_settings(config: Mapping[str, Any]) -> None:
    """ValueError saying which single sign-on setting cannot be used, and why."""
    if not isinstance(config.get("PASSWORD_SIGN_IN"), bool):
        raise ValueError("PASSWORD_SIGN_IN must be true or false")
    if not is_on(config):
        if not config["PASSWORD_SIGN_IN"]:
            raise ValueError(
                "PASSWORD_SIGN_IN = false needs single sign-on (OIDC_ISSUER): "
                "otherwise only administrators could sign in"
            )
        return
    issuer = urlsplit(str(config["OIDC_ISSUER"]))
    loopback = issuer.scheme == "http" and issuer.hostname in LOOPBACK_HOSTS
    if not (issuer.scheme == "https" or loopback) or not issuer.hostname:
        raise ValueError("OIDC_ISSUER must be an https:// address (http:// only on this machine)")
    for key in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_EMAIL_CLAIM"):
        if not isinstance(config.get(key), str) or not config[key].strip():
            raise ValueError(f"{key} is needed with OIDC_ISSUER")
