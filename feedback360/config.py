"""Configuration: defaults, the TOML file, environment overrides, and their validation."""

from __future__ import annotations

import os
import tomllib
import warnings
from pathlib import Path
from typing import Any

from flask import Flask

from feedback360.accounts.passwords import DEFAULT_METHOD as DEFAULT_PASSWORD_METHOD
from feedback360.accounts.passwords import check_method
from feedback360.accounts.sign_in_methods import check_settings as check_single_sign_on
from feedback360.processes import pass_settings_on

CONFIG_ENV = "FEEDBACK360_CONFIG"
ENV_PREFIX = "FEEDBACK360"
# Set by `feedback360 run` (feedback360/console.py) for the processes it starts.
SERVED_AT_ENV = "FEEDBACK360_SERVED_AT"
DEFAULT_BASE_URL = "http://127.0.0.1:5000"

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated and kept in the instance folder when not set
    "SQLALCHEMY_DATABASE_URI": None,  # SQLite in the instance folder when not set
    # Where people reach the app; links in mail start with it. Not set: the address
    # `feedback360 run` serves on, else (commands, workers, cron) DEFAULT_BASE_URL.
    "BASE_URL": None,
    "MAIL_BACKEND": "outbox",
    "MAIL_OUTBOX_DIR": None,  # <instance>/outbox when not set
    "MAIL_FROM": "feedback360 <feedback360@localhost>",
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SMTP_TIMEOUT": 10,
    # Uploads (a staff list) larger than this are refused with a 413 page before reading.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # A signed-in session ends after this long without a request, and this long after sign-in.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    # A form's CSRF token lives as long as the session it is bound to (a staff member's ends
    # with the time-outs above; a rater's when the browser closes), not Flask-WTF's hour:
    # a rater taking their time loses nothing.
    "WTF_CSRF_TIME_LIMIT": None,
    # Where the keys that seal raters' answers until each cycle closes are kept: never in the
    # database or its backups. <instance>/answer-keys when not set. Every web server a rater
    # may reach must see the same folder.
    "ANSWER_KEYS_DIR": None,
    # How passwords are hashed (werkzeug's method string); the default is memory-hard scrypt.
    "PASSWORD_HASH_METHOD": DEFAULT_PASSWORD_METHOD,
    # Rate limits (see feedback360/ratelimits/). In-memory counts are per worker process:
    # with several workers, point this at Redis, e.g. "redis://127.0.0.1:6379/0".
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "feedback360",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,  # Redis down: count per worker meanwhile
    # Several gunicorn workers on memory counts would each allow the whole limit: refused
    # at start unless this says that is accepted.
    "RATELIMIT_ALLOW_PER_WORKER": False,
    # Failed sign-ins: to one account from one address (then that address waits), from one
    # address to any account, and to one account from anywhere (then it is under attack:
    # each address that fails on it waits the pause between tries; nobody is blocked).
    "RATELIMIT_SIGN_IN_PER_ACCOUNT_AND_ADDRESS": "10 per minute; 30 per hour",
    "RATELIMIT_SIGN_IN_PER_ADDRESS": "30 per minute; 300 per hour",
    "RATELIMIT_SIGN_IN_PER_ACCOUNT": "10 per hour",
    "RATELIMIT_SIGN_IN_PAUSE_SECONDS": 30,
    "RATELIMIT_UNKNOWN_LINKS_PER_ADDRESS": "20 per minute; 100 per hour",
    "RATELIMIT_PER_LINK": "300 per minute; 3000 per hour",
    "RATELIMIT_PASSWORD_LINKS_PER_ADDRESS": "5 per hour; 20 per day",
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none).
    "TRUSTED_PROXIES": 0,
    # Single sign-on through an OpenID Connect provider (Entra ID, Okta, Keycloak, ADFS…):
    # off while OIDC_ISSUER is empty. See the README's production section.
    "OIDC_ISSUER": "",
    "OIDC_CLIENT_ID": "",
    "OIDC_CLIENT_SECRET": "",
    "OIDC_EMAIL_CLAIM": "email",  # the ID token's claim holding the staff list's email address
    # False (with single sign-on on): only administrators sign in with a password, for when
    # the provider is down; nobody else is sent a set-password link.
    "PASSWORD_SIGN_IN": True,
    # Report builds and mail run on Celery workers when a broker is set (redis://host:6379/0);
    # empty: in a local process pool and in the web process, as with nothing else installed.
    "CELERY_BROKER_URL": "",
    "CELERY_RESULT_BACKEND": "",  # the broker when empty
    "CELERY_QUEUE": "feedback360",  # several deployments may share one Redis
    # Where a staff-list import runs: "process", a process of its own started by the upload;
    # "none", left queued for `feedback360 people import-job ID` (the tests run it so).
    "PEOPLE_IMPORT_WORKER": "process",
    # Without a broker, mail a web request queues is sent as that request ends; more messages
    # than this (a release, a cycle's invitations) go from a `feedback360 mail worker --once`
    # process started for them instead, so that the page returns at once.
    "MAIL_IN_REQUEST_LIMIT": 50,
}
KNOWN_KEYS = set(DEFAULTS) | {"TESTING", "DEBUG", "WTF_CSRF_ENABLED", "SERVER_NAME"}


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Apply defaults, then the TOML file, then FEEDBACK360_* variables, then test overrides."""
    app.config.from_mapping(DEFAULTS)
    path = Path(os.environ.get(CONFIG_ENV) or Path(app.instance_path) / "config.toml")
    if path.is_file():
        try:
            app.config.from_file(str(path), load=tomllib.load, text=False)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} is not valid TOML: {error}") from error
        unknown = sorted(key for key in tomllib.loads(path.read_text()) if key not in KNOWN_KEYS)
        if unknown:
            warnings.warn(f"{path}: unknown keys ignored: {', '.join(unknown)}", stacklevel=2)
    elif os.environ.get(CONFIG_ENV):
        raise ConfigError(f"{CONFIG_ENV} names {path}, which does not exist")
    app.config.from_prefixed_env(ENV_PREFIX)
    app.config.pop("SERVED_AT", None)  # not a setting: read below, where BASE_URL is unset
    if test_config:
        app.config.from_mapping(test_config)
    _fill_instance_defaults(app)
    pass_settings_on(app, DEFAULTS)


def _fill_instance_defaults(app: Flask) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'feedback360.sqlite'}"
    if not app.config["BASE_URL"]:
        app.config["BASE_URL"] = os.environ.get(SERVED_AT_ENV) or DEFAULT_BASE_URL
    app.config["MAIL_OUTBOX_DIR"] = str(app.config["MAIL_OUTBOX_DIR"] or instance / "outbox")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if app.config["MAIL_BACKEND"] not in ("outbox", "smtp"):
        raise ConfigError("MAIL_BACKEND must be 'outbox' or 'smtp'")
    for key in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS"):
        if not isinstance(app.config[key], int | float) or app.config[key] <= 0:
            raise ConfigError(f"{key} must be a number above 0")
    try:
        check_method(app.config["PASSWORD_HASH_METHOD"])
    except ValueError as error:
        raise ConfigError(f"PASSWORD_HASH_METHOD cannot be used: {error}") from error
    try:
        check_single_sign_on(app.config)
    except ValueError as error:
        raise ConfigError(str(error)) from error


def _instance_secret(instance: Path) -> str:
    # A random key kept beside the database, so sessions survive a restart without setup.
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(os.urandom(32).hex())
        key_file.chmod(0o600)
    return key_file.read_text().strip()
