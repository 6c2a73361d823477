# Adapted from the team's anchor scripts (tasks.py, unchanged; the anchor Celery app); URLs come from celery_bench.py via ANC_* env.
"""Celery app for the anchor benchmarks (Celery 5.2.6 / kombu 5.2.4, Debian packages).

Imported both by the driver (celery_bench.py, as the client) and by the worker
(`/usr/bin/python3 -m celery -A tasks worker ...`). Configured from env vars:

  ANC_BROKER   broker URL          (default redis://127.0.0.1:6379/14)
  ANC_BACKEND  result backend URL  (default redis://127.0.0.1:6379/14; 'none' = results off)
  ANC_TAG      unique suffix for queue / exchange / kombu bookkeeping key names
  ANC_N        number of tasks after which the worker writes ANC_MARKS/done
  ANC_MARKS    directory where the worker drops time stamps (ready, first, done)

Everything else is Celery's default (prefetch multiplier 4, early ack, result_expires 1 day,
json serializer, protocol 2). Only *names* are changed so that the runs are isolated from
other users of the same Redis DB / RabbitMQ vhost.

Completion detection: a task_postrun receiver (runs in the process/thread that executed the
task, *after* the result was stored) bumps a counter in shared memory (fork-inherited
multiprocessing.Value, so it works for prefork, threads and solo). When it reaches ANC_N the
time stamp is written to ANC_MARKS/done. Cost: one uncontended lock + increment per task.
"""
import multiprocessing
import os
import time

from celery import Celery
from celery.signals import task_postrun, worker_ready

TAG = os.environ.get('ANC_TAG', 'default')
BROKER = os.environ.get('ANC_BROKER', 'redis://127.0.0.1:6379/14')
BACKEND = os.environ.get('ANC_BACKEND', 'redis://127.0.0.1:6379/14')
N = int(os.environ.get('ANC_N', '0') or 0)
MARKS = os.environ.get('ANC_MARKS', '')

results_on = BACKEND not in ('', 'none', 'off')

app = Celery('tasks', broker=BROKER, backend=BACKEND if results_on else None)
qname = f'anc_{TAG}'
app.conf.update(
    task_default_queue=qname,
    task_default_exchange=qname,
    task_default_routing_key=qname,
    event_exchange=f'anc_{TAG}_ev',
    control_exchange=f'anc_{TAG}_ctl',
    task_ignore_result=not results_on,
    broker_transport_options={
        # kombu Redis transport bookkeeping keys (ignored by the amqp transport)
        'unacked_key': f'anc_{TAG}_unacked',
        'unacked_index_key': f'anc_{TAG}_unacked_index',
        'unacked_mutex_key': f'anc_{TAG}_unacked_mutex',
    },
    worker_hijack_root_logger=False,
)


@app.task(name='tasks.add')
def add(x, y):
    return x + y


_counter = multiprocessing.Value('q', 0)


def _mark(name, ts=None):
    if not MARKS:
        return
    path = os.path.join(MARKS, name)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(repr(ts if ts is not None else time.time()))
    os.replace(tmp, path)


@worker_ready.connect
def _on_ready(**_):
    _mark('ready')


@task_postrun.connect
def _on_postrun(**_):
    with _counter.get_lock():
        _counter.value += 1
        v = _counter.value
    if v == 1:
        _mark('first')
    if N and v == N:
        _mark('done')
