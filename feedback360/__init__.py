"""feedback360: self-hosted, values-based 360-degree feedback."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from feedback360.paths import resource_dir


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults → TOML config file → FEEDBACK360_* environment → test_config."""
    from feedback360 import cli, models, sqlite, web  # noqa: F401  (models registers tables)
    from feedback360.accounts import welcome_mails  # noqa: F401  (likewise)
    from feedback360.background import celery_init_app
    from feedback360.config import load_config
    from feedback360.extensions import csrf, db, login_manager, migrate
    from feedback360.feedback import mails  # noqa: F401  (registers the words of its mail)
    from feedback360.reports import mails as report_mails  # noqa: F401  (likewise)

    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        instance_path=os.environ.get("FEEDBACK360_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    load_config(app, test_config)
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            sqlite.configure(engine)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    celery_init_app(app)
    return app
