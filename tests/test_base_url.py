"""Links in mail start where the app is served: BASE_URL when set, else the address
`feedback360 run` serves on (`make run PORT=5051`), else http://127.0.0.1:5000."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from feedback360 import create_app
from feedback360.config import SERVED_AT_ENV
from feedback360.console import served_at
from tests.conftest import mailed_password_link, served_by_run


@pytest.mark.parametrize(
    ("host", "port", "cert", "address"),
    [
        ("127.0.0.1", 5051, None, "http://127.0.0.1:5051"),
        ("localhost", 8000, None, "http://localhost:8000"),
        ("0.0.0.0", 5000, None, "http://127.0.0.1:5000"),  # noqa: S104
        ("::1", 5000, None, "http://[::1]:5000"),
        ("127.0.0.1", 5443, "adhoc", "https://127.0.0.1:5443"),
    ],
)
def test_the_address_run_serves_on(host, port, cert, address):
    assert served_at(host, port, cert) == address


def _base_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str = "") -> str:
    monkeypatch.setenv("FEEDBACK360_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("FEEDBACK360_BASE_URL", raising=False)
    monkeypatch.delenv("FEEDBACK360_CONFIG", raising=False)
    (tmp_path / "instance").mkdir(exist_ok=True)
    (tmp_path / "instance" / "config.toml").write_text(config)
    return str(create_app().config["BASE_URL"])


def test_a_configured_base_url_wins_over_where_run_serves(tmp_path, monkeypatch):
    monkeypatch.setenv(SERVED_AT_ENV, "http://127.0.0.1:5051")
    assert _base_url(tmp_path, monkeypatch) == "http://127.0.0.1:5051"
    configured = 'BASE_URL = "https://feedback.example.org"\n'
    assert _base_url(tmp_path, monkeypatch, configured) == "https://feedback.example.org"


def test_commands_outside_run_use_the_default_address(tmp_path, monkeypatch):
    monkeypatch.delenv(SERVED_AT_ENV, raising=False)
    assert _base_url(tmp_path, monkeypatch) == "http://127.0.0.1:5000"


def test_run_on_another_port_mails_links_to_that_port(tmp_path, monkeypatch):
    with served_by_run(tmp_path, monkeypatch) as (app, site):
        _ask_for_a_password_link(site, "sam.taylor@example.org")
        link = mailed_password_link(app)
    assert urlsplit(site).port != 5000
    assert link.startswith(f"{site}/account/set-password/")


def _ask_for_a_password_link(site: str, email: str) -> None:
    """“Forgot your password?” as a browser fills it in (the form's CSRF token and cookie)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form_page = f"{site}/account/forgot-password"
    page = opener.open(form_page, timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, page
    fields = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email}).encode()
    asked = urllib.request.Request(form_page, fields)  # noqa: S310 (the test's own server)
    opener.open(asked, timeout=30).close()
