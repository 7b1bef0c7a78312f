"""The Celery app that `celery -A feedback360.tasks worker` finds: this deployment's own.

The worker reads the same configuration as the web app (FEEDBACK360_CONFIG or the instance
folder's config.toml, then FEEDBACK360_* variables), so it reaches the same database.
"""

from __future__ import annotations

from feedback360 import create_app

flask_app = create_app()
app = flask_app.extensions.get("celery")
if app is None:
    raise RuntimeError(
        "No Celery broker is configured: set CELERY_BROKER_URL in the config file "
        "(or FEEDBACK360_CELERY_BROKER_URL) before starting a worker."
    )
