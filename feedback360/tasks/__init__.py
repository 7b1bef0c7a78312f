"""The Celery tasks, which a worker started with `celery -A feedback360.tasks worker` runs.

The worker's app is in `celery.py`; the tasks' names and the Celery set-up are in
feedback360.background, so that the code sending a task never imports the task itself.
"""
