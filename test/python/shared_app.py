"""The interop app of celery_app.py plus `tasks.add`, for a Python worker that shares one queue with
the Nest worker: every task name sent to that queue is then known to both (celery-wire.md 10.8)."""
from celery_app import app  # noqa: F401  (the app the worker runs: `celery -A shared_app`)


@app.task(name="tasks.add")
def add(x, y):
    return x + y
