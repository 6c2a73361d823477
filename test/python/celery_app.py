"""A real Python Celery 5 app for the interop suites.

Broker and backend come from the environment (TQ_BROKER, TQ_BACKEND). Task names start with `py.`
so they never collide with the Node worker's `tasks.*`.
"""
import os
import time

from celery import Celery

app = Celery(
    "interop",
    broker=os.environ.get("TQ_BROKER", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("TQ_BACKEND") or None,
)
app.conf.update(
    task_default_queue=os.environ.get("TQ_DEFAULT_QUEUE", "celery"),
    worker_hijack_root_logger=False,
    broker_transport_options={"visibility_timeout": float(os.environ.get("TQ_VISIBILITY_TIMEOUT", "3600"))},
    broker_connection_retry_on_startup=True,
)


class PyError(Exception):
    """A custom Python exception, to check that its type name travels."""


@app.task(name="py.add")
def add(x, y):
    return x + y


@app.task(name="py.mul")
def mul(x, y):
    return x * y


@app.task(name="py.echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="py.fail")
def fail(message):
    raise ValueError(message)


@app.task(name="py.custom_fail")
def custom_fail(message):
    raise PyError(message)


@app.task(name="py.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds
