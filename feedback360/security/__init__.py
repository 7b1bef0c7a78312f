"""Defences that every request passes through: headers, session time-outs (and the page's
call to stay signed in), log redaction."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from feedback360.security import headers, redaction, session_views, sessions


def init_app(app: Flask) -> None:
    redaction.redact_links_in_logs()
    trust_proxies(app)
    headers.init_app(app)
    sessions.init_app(app)
    app.register_blueprint(session_views.bp)


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the visitor's address and scheme from
    their X-Forwarded-* headers: rate limits count per visitor, not per proxy, and HSTS
    and secure cookies follow the scheme the visitor used. Never trusted by default."""
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
