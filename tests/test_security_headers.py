"""Every response carries the security headers; no page needs inline script or styles."""

from __future__ import annotations

import re

import pytest

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.paths import resource_dir
from feedback360.security.headers import STORED_REPORT_PAGES, style_hashes
from tests.conftest import running_app, sign_in, submit_form
from tests.test_release import answers, close_build_release

EXPECTED_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def assert_secure_headers(response, *, cached: bool = False) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "script-src 'self';" in headers["Content-Security-Policy"]
    if not cached:
        assert headers["Cache-Control"] == "no-store"


def test_pages_forms_and_errors_carry_the_headers(client, make_person):
    make_person("Sam Taylor", "sam@example.org")
    for response in (
        client.get("/sign-in"),
        client.get("/"),  # a redirect to sign in
        client.get("/no-such-page"),
        client.get("/r/" + "x" * 43),  # an unknown rater link
    ):
        assert_secure_headers(response)
        assert response.headers["Content-Security-Policy"] == EXPECTED_POLICY
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers


def test_static_files_may_be_cached_but_are_not_sniffed(client):
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert_secure_headers(response, cached=True)
        assert response.headers.get("Cache-Control") != "no-store"


@pytest.mark.suite_database
def test_https_sites_send_hsts_and_secure_cookies(tmp_path, monkeypatch):
    with running_app(tmp_path, monkeypatch, BASE_URL="https://feedback.example.org") as app:
        response = app.test_client().get("/sign-in")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert app.config["SESSION_COOKIE_SECURE"] is True


def test_a_request_over_https_gets_hsts_whatever_the_base_url(client):
    response = client.get("/sign-in", base_url="https://localhost")
    assert "Strict-Transport-Security" in response.headers


def test_the_report_page_allows_only_its_own_style_block(invited, client, runner, framework):
    links = invited(["peer"] * 5)
    for link in list(links.values())[:4]:
        submit_form(client, f"{link}/form", {**answers(framework, 4), "action": "submit"})
    close_build_release(runner)
    request_id = db.session.scalars(db.select(FeedbackRequest)).one().id
    sam = client.application.test_client()
    sign_in(sam, "sam@example.org")

    page = sam.get(f"/reports/{request_id}/")
    assert page.status_code == 200
    assert_secure_headers(page)
    (style_hash,) = style_hashes(page.text)
    policy = page.headers["Content-Security-Policy"]
    assert f"style-src 'self' {style_hash};" in policy
    assert "<script" not in page.text
    assert " style=" not in page.text

    pdf = sam.get(f"/reports/{request_id}/report.pdf")
    assert pdf.mimetype == "application/pdf"
    assert_secure_headers(pdf)
    assert "style-src 'self';" in pdf.headers["Content-Security-Policy"]


def test_the_stored_report_pages_are_real_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= STORED_REPORT_PAGES


TEMPLATES = sorted(
    path
    for path in resource_dir("templates").rglob("*.html")
    if "mail" not in path.parts and path.name != "report.html"
)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_page_template_holds_inline_script_or_style(template):
    """The CSP would block them: scripts and styles live in static files."""
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "an on...= handler"
    assert not re.search(r"\sstyle\s*=", text), "a style attribute"
    assert "<style" not in text, "a <style> block"
    assert "javascript:" not in text
