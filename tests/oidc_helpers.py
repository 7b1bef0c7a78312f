"""A real OpenID Connect provider for the single sign-on tests, and a person's way through
its pages.

The provider is panva's oidc-provider (tests/oidc/server.js, pinned by its
package-lock.json and installed by `make test` with npm ci), run by Node.js on a free
loopback port. Without Node.js or the package the tests skip, saying so, unless
FEEDBACK360_REQUIRE_OIDC=1 (as CI sets), where they fail instead.

The app's pages are the test client's (or Chromium's); the provider's pages are visited
with requests, as the same person's browser would: the app redirects to the provider, the
person signs in there, and the provider sends them back to the app with a code.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import poll_until
from tests.servers import free_port, stop_process_group

NODE_PROJECT = Path(__file__).parent / "oidc"
SERVER = NODE_PROJECT / "server.js"
PACKAGE = NODE_PROJECT / "node_modules" / "oidc-provider" / "package.json"
REQUIRE_OIDC = os.environ.get("FEEDBACK360_REQUIRE_OIDC") == "1"
CALLBACK, SIGN_IN = "/sign-in/single-sign-on/return", "/sign-in"
TIMEOUT = 10  # seconds for one request to the provider


def _missing(message: str) -> None:
    if REQUIRE_OIDC:
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Client:
    """An application registered at the provider."""

    client_id: str
    client_secret: str


@dataclass
class Provider:
    issuer: str
    accounts_file: Path

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        """The provider's people, by subject: {"sub": {"claims": {...}, "id_token_for": id}}.
        Read afresh at every sign-in there."""
        self.accounts_file.write_text(json.dumps(accounts))

    def register(self, site: str) -> Client:
        """Register an application served at `site`, as its administrator would."""
        metadata = {
            "client_name": "feedback360",
            "redirect_uris": [site + CALLBACK],
            "post_logout_redirect_uris": [site + SIGN_IN],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
        response = requests.post(f"{self.issuer}/reg", json=metadata, timeout=TIMEOUT)
        response.raise_for_status()
        answer = response.json()
        return Client(answer["client_id"], answer["client_secret"])

    def settings(self, client: Client, **more: object) -> dict[str, object]:
        """The app's configuration for this provider and client."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": client.client_id,
            "OIDC_CLIENT_SECRET": client.client_secret,
            **more,
        }


@contextmanager
def oidc_provider(folder: Path) -> Iterator[Provider]:
    """The provider, started on a free port and stopped afterwards."""
    node = shutil.which("node")
    if node is None:
        _missing("Node.js is not installed (run `make test` to install it)")
    if not PACKAGE.exists():
        _missing(f"oidc-provider is not installed in {NODE_PROJECT} (run `make test`)")
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", folder / "accounts.json")
    provider.set_accounts({})
    log = (folder / "oidc-provider.log").open("wb")
    process = subprocess.Popen(
        [str(node), str(SERVER), str(port), str(provider.accounts_file)],
        cwd=NODE_PROJECT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def answers() -> bool:
            assert process.poll() is None, (folder / "oidc-provider.log").read_text()
            try:
                discovery = f"{provider.issuer}/.well-known/openid-configuration"
                return requests.get(discovery, timeout=1).ok
            except requests.ConnectionError:
                return False

        poll_until(answers, timeout=30, what="oidc-provider's start")
        yield provider
    finally:
        stop_process_group(process, timeout=10)
        log.close()


class AtTheProvider:
    """One person's browser at the provider's pages (its cookies are the provider's session).

    Each method follows the provider's redirects and fills in its pages until the browser
    is sent back to the app at `site`, and returns that address's path and query.
    """

    def __init__(self, site: str) -> None:
        self.site = site
        self.browser = requests.Session()
        self.pages: list[str] = []  # the provider's pages met on the way, by their <h1>

    def sign_in(self, address: str, login: str) -> str:
        """Sign in as `login` (an account's subject), consenting if asked."""
        return self._until_back(address, {"login": login, "password": "any password"})

    def sign_out(self, address: str) -> str:
        """Confirm signing out of the provider too."""
        return self._until_back(address, {"logout": "yes"})

    def _until_back(self, address: str, answers: dict[str, str]) -> str:
        response = self.browser.get(address, allow_redirects=False, timeout=TIMEOUT)
        for _ in range(10):
            if response.is_redirect:
                address = urljoin(address, response.headers["Location"])
                if address.startswith(self.site):
                    return address.removeprefix(self.site)
                response = self.browser.get(address, allow_redirects=False, timeout=TIMEOUT)
                continue
            assert response.status_code == 200, f"{address}: {response.status_code}"
            self.pages.append(_heading(response.text))
            action, fields = _form(response.text)
            fields.update({name: value for name, value in answers.items() if name in fields})
            address = urljoin(address, action)
            response = self.browser.post(
                address, data=fields, allow_redirects=False, timeout=TIMEOUT
            )
        raise AssertionError(f"the provider never sent the browser back; pages: {self.pages}")


def _heading(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.DOTALL)
    return html.unescape(match.group(1).strip()) if match else ""


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The page's form: where it posts, and every field it names (hidden ones with their
    values, the others empty for the answers), with the submit button's name and value."""
    match = re.search(r"<form[^>]*action=\"([^\"]+)\"", page)
    assert match, f"the provider's page has no form: {page[:500]}"
    fields = {}
    for tag in re.findall(r"<(?:input|button)\b[^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    return html.unescape(match.group(1)), fields
