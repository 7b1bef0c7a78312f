"""Gunicorn settings for feedback360: `gunicorn -c gunicorn.conf.py`.

Serve behind a reverse proxy that ends TLS; set TRUSTED_PROXIES in the feedback360 config
to the number of proxies in front, so that rate limits see each visitor's own address.
"""

from feedback360.ratelimits.workers import StartRefused, refuse_counts_per_worker
from feedback360.security.redaction import redact_links_in_logs

wsgi_app = "feedback360:create_app()"
bind = "127.0.0.1:8000"
workers = 2
# Threads, so that a worker waiting on the database serves another rater meanwhile: fifty
# raters at once need it (benchmarks/README.md, rater_load.py). Each thread holds one of the
# database pool's connections (5 a worker, SQLAlchemy's default).
worker_class = "gthread"
threads = 4
# With more than one worker, rate-limit counts must be shared: RATELIMIT_STORAGE_URI = Redis.
# On memory counts the server refuses to start (see on_starting) unless
# RATELIMIT_ALLOW_PER_WORKER = true.
accesslog = "-"
errorlog = "-"

# The access log prints each request's path, and a rater's or set-password link holds its
# token there. Redacted here in the master, so every worker forked from it inherits it
# before its first request.
redact_links_in_logs()


def on_starting(server):  # type: ignore[no-untyped-def]
    """Before any worker starts, with the worker count the command line settled on."""
    try:
        refuse_counts_per_worker(server.cfg.workers)
    except StartRefused as problem:
        server.log.error("%s", problem)  # in the error log as well as on the terminal
        raise


def when_ready(server):  # type: ignore[no-untyped-def]
    """With --preload the app is built here, before the workers fork: compile the rater
    pages' templates once, for every worker to inherit."""
    if server.cfg.preload_app:
        # Imported in the hooks: this file is read before gunicorn loads the app.
        from feedback360.feedback.warm_up import compile_rater_templates

        compile_rater_templates(server.app.wsgi())


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Ready each worker for the raters who arrive together when invitations go out (see
    feedback360.feedback.warm_up) before it takes its first request."""
    from feedback360.feedback.warm_up import warm_up

    warm_up(worker.wsgi, connections=worker.cfg.threads)
