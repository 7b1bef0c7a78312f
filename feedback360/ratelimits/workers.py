"""Several server workers must share their rate-limit counts, or each allows the whole limit.

gunicorn.conf.py calls `refuse_counts_per_worker` before any worker starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from feedback360.config import ConfigError, load_config

ALLOW = "RATELIMIT_ALLOW_PER_WORKER"


class StartRefused(RuntimeError):
    """The server must not start (gunicorn prints a RuntimeError's message and stops)."""


def refuse_counts_per_worker(workers: int, config: Mapping[str, Any] | None = None) -> None:
    """Raise StartRefused if `workers` processes would each keep counts in memory."""
    if workers <= 1:
        return
    config = config if config is not None else _configuration()
    shared = not str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://")
    if shared or not config["RATELIMIT_ENABLED"] or config[ALLOW]:
        return
    raise StartRefused(
        f"{workers} workers would each keep their own rate-limit counts in memory, so every "
        f"limit (failed sign-ins, unknown links) would allow {workers} times as many tries. "
        'Share the counts in Redis (RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"), '
        f"or run one worker (--workers 1), or accept the looser limits with {ALLOW} = true "
        f"(FEEDBACK360_{ALLOW}=true)."
    )


def _configuration() -> Mapping[str, Any]:
    # The configuration the app will load (file, environment), read without building it.
    app = Flask(
        "feedback360",
        instance_path=os.environ.get("FEEDBACK360_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    try:
        load_config(app, None)
    except ConfigError as error:
        raise StartRefused(f"The configuration cannot be used: {error}") from error
    return app.config
