"""Our OpenID Connect client (Authlib's): the redirect to the provider, the checks of what
comes back, and the provider's sign-out."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import current_app, request
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import sign_in_methods
from feedback360.accounts.single_sign_on import SUBJECT_LENGTH

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

EXTENSION = "feedback360.single_sign_on"
# Scopes every provider named in the README understands; `profile` gives Entra ID's
# preferred_username, `email` the email claim.
SCOPES = "openid email profile"
TIMEOUT = 10  # seconds for each call to the provider: a hung provider must not hang us
CALLBACK_PATH = "/sign-in/single-sign-on/return"
# The ID token, kept in the session of a single sign-on to name it at the provider's sign-out.
ID_TOKEN = "single_sign_on_id_token"  # noqa: S105  (a session key, not a secret)


class SignInFailed(Exception):
    """The answer from the provider could not be trusted, or it could not be reached."""

    def __init__(self, reason: str, *, unavailable: bool = False) -> None:
        super().__init__(reason)
        self.unavailable = unavailable


@dataclass(frozen=True)
class Vouched:
    """What a checked ID token says: who, by the provider's subject, and its claims."""

    subject: str
    claims: dict[str, Any]
    id_token: str


def _site_url(path: str) -> str:
    """A page's whole address, from the site's address as mails give it (BASE_URL): what
    is registered at the provider, whatever host name a request came in by."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}{path}"


def _issuer() -> str:
    return str(current_app.config["OIDC_ISSUER"]).rstrip("/")


def provider() -> FlaskOAuth2App:
    """This app's client of the provider, made at first use from the settings."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get(EXTENSION)
    if client is None:
        client = OAuth(app).register(
            "single_sign_on",
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config["OIDC_CLIENT_SECRET"],
            server_metadata_url=f"{_issuer()}/.well-known/openid-configuration",
            client_kwargs={
                "scope": SCOPES,
                "code_challenge_method": "S256",
                "default_timeout": TIMEOUT,
            },
        )
        app.extensions[EXTENSION] = client
    return client  # type: ignore[no-any-return]


def _metadata(client: FlaskOAuth2App) -> dict[str, Any]:
    """The discovery document, fetched once; its issuer must be the one configured."""
    try:
        metadata: dict[str, Any] = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        log.warning("Single sign-on: the discovery document could not be read: %s", error)
        raise SignInFailed("unreachable", unavailable=True) from error
    if str(metadata.get("issuer", "")).rstrip("/") != _issuer():
        log.error("Single sign-on: the provider names itself %r", metadata.get("issuer"))
        raise SignInFailed("issuer", unavailable=True)
    return metadata


def redirect_to_provider() -> WerkzeugResponse:
    """To the provider's sign-in page; state, nonce and PKCE verifier wait in the session."""
    client = provider()
    _metadata(client)
    return client.authorize_redirect(_site_url(CALLBACK_PATH))  # type: ignore[no-any-return]


def vouched_for() -> Vouched:
    """The provider's answer on this request, checked: state, code (with PKCE), and the ID
    token's signature, issuer, audience, expiry and nonce. SignInFailed says otherwise."""
    client = provider()
    metadata = _metadata(client)
    returned_issuer = request.args.get("iss")
    if returned_issuer is not None and returned_issuer.rstrip("/") != _issuer():
        log.warning("Single sign-on refused: an answer from another provider (RFC 9207)")
        raise SignInFailed("answer from another provider")
    # Authlib checks the audience only when asked (by default only `azp`, when present).
    expected = {
        "iss": {"essential": True, "values": [metadata["issuer"]]},
        "aud": {"essential": True, "values": [client.client_id]},
    }
    try:
        token = client.authorize_access_token(claims_options=expected)
    except requests.RequestException as error:
        log.warning("Single sign-on: the provider could not be reached: %s", error)
        raise SignInFailed("unreachable", unavailable=True) from error
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as error:
        log.warning("Single sign-on refused: %s", _described(error))
        raise SignInFailed(_described(error)) from error
    claims = dict(token.get("userinfo") or {})
    subject = claims.get("sub")
    usable = isinstance(subject, str) and subject.isprintable()
    if not usable or not subject or len(subject) > SUBJECT_LENGTH:
        raise SignInFailed("no usable subject in the ID token")
    if metadata.get("end_session_endpoint") is None:
        return Vouched(subject, claims, "")
    return Vouched(subject, claims, str(token["id_token"]))


def _described(error: Exception) -> str:
    """For the log: the protocol's error code and description (never a token), with the
    control characters a visitor could send in them made harmless."""
    code = getattr(error, "error", "") or ""
    text = f"{type(error).__name__}: {code} {getattr(error, 'description', '') or error}"
    return _CONTROL.sub("?", text)[:300]


def sign_out_url(id_token: str | None, *, return_to: str) -> str | None:
    """Where the browser ends its session at the provider too, if the provider offers it,
    to come back to our page `return_to` (a path, registered at the provider)."""
    if not id_token or not sign_in_methods.is_on(current_app.config):
        return None
    try:
        client = provider()
        if not _metadata(client).get("end_session_endpoint"):
            return None
        logout = client.create_logout_url(
            post_logout_redirect_uri=_site_url(return_to), id_token_hint=id_token
        )
    except SignInFailed:
        return None  # our session has ended anyway
    return str(logout["url"])
