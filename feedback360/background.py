"""Background work on Celery workers when a broker is configured, in-process otherwise.

The pattern of Flask's own documentation: `celery_init_app` gives Celery a task class whose
calls run inside this app's context, so a task uses `db.session` and the configuration as a
view does. The tasks themselves are in feedback360.tasks, which a worker started with
`celery -A feedback360.tasks worker` imports; everything else sends them by name, from here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from celery import Celery

RETRY_MAIL_EVERY = timedelta(minutes=5)  # each message keeps its own back-off
TASK_MODULES = ["feedback360.tasks.mail", "feedback360.tasks.reports"]
DELIVER_MAIL_TASK = "feedback360.deliver_mail"  # sent by mailing.services
RENDER_TASK = "feedback360.render_reports"  # sent by reports.celery_build
RETRY_MAIL_TASK = "feedback360.retry_mail"  # sent by celery beat


def celery_init_app(app: Flask) -> None:
    """Attach a Celery app to this Flask app when CELERY_BROKER_URL is set."""
    broker = app.config["CELERY_BROKER_URL"]
    if not broker:
        return
    from celery import Celery, Task

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # The tasks are named, not imported: a worker imports them as it starts, and the web
    # and command-line processes only send them by name. So this module imports none of
    # the code the tasks run, and that code may ask it for the Celery app without a cycle.
    celery = Celery(app.name, task_cls=FlaskTask, include=TASK_MODULES)
    celery.conf.update(
        broker_url=broker,
        result_backend=app.config["CELERY_RESULT_BACKEND"] or broker,
        task_default_queue=app.config["CELERY_QUEUE"],
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # A report build takes seconds: each worker process takes one task at a time, so
        # the work spreads evenly over every machine's workers.
        worker_prefetch_multiplier=1,
        result_expires=timedelta(days=1),
        broker_connection_retry_on_startup=True,
        # A web request queuing mail must not hang on an unreachable broker.
        broker_transport_options={"socket_connect_timeout": 5},
        redis_socket_connect_timeout=5,
        beat_schedule={
            "retry-failed-mail": {"task": RETRY_MAIL_TASK, "schedule": RETRY_MAIL_EVERY}
        },
    )
    celery.set_default()
    app.extensions["celery"] = celery


def celery_app() -> Celery | None:
    """The one decision point: Celery when a broker is configured, None to work in-process."""
    return current_app.extensions.get("celery")
