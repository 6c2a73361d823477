"""celery_app plus the tasks the Redis interop suites register on BOTH sides (Python and our worker).

`tq.flaky`: the Python side of a task whose first run retries on our worker; it reports who ran
the retry. Load it with `-A celery_redis_app`.
"""
from celery_app import app  # noqa: F401  (the app the CLI loads)


@app.task(name="tq.flaky", bind=True)
def flaky(self, key):
    return {"ran_on": "python", "key": key, "retries": self.request.retries, "parent_id": self.request.parent_id}


@app.task(name="tq.bounce", bind=True)
def bounce(self, key):
    """Retries once from Python (a real `self.retry` message), so our worker can run the retry."""
    if self.request.retries == 0:
        raise self.retry(countdown=2)
    return {"ran_on": "python", "key": key, "retries": self.request.retries}
