"""Security headers on every response; the Content-Security-Policy allows no inline script."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app, request

from feedback360.accounts.sign_in_methods import provider_origin

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'{style_hashes}; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'{provider}; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# A personal report is one self-contained page, built once and stored: its <style> block
# (chart colours and column widths worked out per report) is allowed by its hash, on these
# pages only. Every other page takes its styles from our static files.
STORED_REPORT_PAGES = frozenset({"reports.show", "coaching.show"})
_STYLE_BLOCK = re.compile(r"<style(?:\s[^>]*)?>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def style_hashes(html: str) -> list[str]:
    """CSP source expressions for each inline <style> block of a page."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in _STYLE_BLOCK.findall(html)
    ]


def content_security_policy(response: Response) -> str:
    hashes: list[str] = []
    if request.endpoint in STORED_REPORT_PAGES and response.mimetype == "text/html":
        hashes = style_hashes(response.get_data(as_text=True))
    # Signing in and out with single sign-on posts a form that leads on to the provider.
    provider = provider_origin(current_app.config)
    return POLICY.format(
        style_hashes="".join(" " + h for h in hashes), provider=f" {provider}" if provider else ""
    )


def served_over_https() -> bool:
    return request.is_secure or str(current_app.config["BASE_URL"]).startswith("https://")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(response)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Rater and set-password links hold a token in the address: never pass it on.
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if served_over_https():
        headers["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        # Any page may hold a form, a report or personal data: keep it out of every cache.
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
