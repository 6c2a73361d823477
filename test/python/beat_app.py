"""`celery beat` for the periodic-task interop suite: celery_app plus one entry from the environment.

TQ_BEAT_TASK (task name), TQ_BEAT_QUEUE (queue our Node worker consumes), every second. Also a
task that returns the `periodic_task_name` header of its own message, as Celery exposes it.
"""
import os

from celery_app import app



@app.task(name="py.periodic_name", bind=True)
def periodic_name(self):
    return getattr(self.request, "periodic_task_name", None)


app.conf.beat_schedule = {
    "tq-from-python": {
        "task": os.environ.get("TQ_BEAT_TASK", "py.add"),
        "schedule": 1.0,
        "args": (7,),
        "options": {"queue": os.environ.get("TQ_BEAT_QUEUE", "celery")},
    },
}
app.conf.beat_max_loop_interval = 1
