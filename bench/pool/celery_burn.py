#!/usr/bin/python3
"""Celery prefork anchor of `npm run bench:pool`: the same 50 ms CPU loop as tasks.burn, run by
`celery worker -P prefork -c <c>` (Celery 5.2.6, Debian's /usr/bin/python3).

    /usr/bin/python3 bench/pool/celery_burn.py --broker redis://127.0.0.1:6379/12 --c 2 --n 60 --ms 50

Starts the worker, waits until it answers a ping, warms every child up, then sends N tasks at
once and times until every result is stored. Prints one JSON line. Everything it made (queue,
result keys) is deleted at the end.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import uuid

from celery import Celery

ap = argparse.ArgumentParser()
ap.add_argument('--broker', default='redis://127.0.0.1:6379/12')
ap.add_argument('--c', type=int, default=2)
ap.add_argument('--n', type=int, default=60)
ap.add_argument('--ms', type=int, default=50)
# The driver parses its flags; the worker it starts imports this module and reads the environment.
args = ap.parse_args() if __name__ == '__main__' else None
BROKER = args.broker if args else os.environ['BURN_BROKER']
QUEUE = os.environ.get('BURN_QUEUE') or f'bpool_celery_{uuid.uuid4().hex[:8]}'
app = Celery('celery_burn', broker=BROKER, backend=BROKER)
app.conf.update(task_default_queue=QUEUE, worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)


@app.task(name='bench.burn')
def burn(ms):
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass
    return ms


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    host = f'burn{os.getpid()}@bench'
    env = dict(os.environ, BURN_QUEUE=QUEUE, BURN_BROKER=BROKER, PYTHONPATH=here)
    worker = subprocess.Popen(
        ['/usr/bin/python3', '-m', 'celery', '-A', 'celery_burn', 'worker', '-P', 'prefork', '-c', str(args.c), '-Q', QUEUE, '-n', host,
         '--without-gossip', '--without-mingle', '-l', 'warning'],
        cwd=here, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not app.control.ping(destination=[host], timeout=0.5):
            if time.time() > deadline:
                raise SystemExit('the Celery worker did not answer a ping within 60 s')
        warm = [burn.delay(args.ms) for _ in range(args.c * 2)]
        for r in warm:
            r.get(timeout=60)
        t0 = time.perf_counter()
        results = [burn.delay(args.ms) for _ in range(args.n)]
        for r in results:
            r.get(timeout=300)
        seconds = time.perf_counter() - t0
        for r in warm + results:
            r.forget()
        print(json.dumps({'scenario': {'mode': 'celery-prefork', 'c': args.c, 'n': args.n, 'ms': args.ms}, 'seconds': seconds, 'perSecond': args.n / seconds}))
    finally:
        worker.terminate()
        worker.wait(30)
        with app.connection_for_write() as conn:
            conn.default_channel.client.delete(QUEUE, f'_kombu.binding.{QUEUE}')


if __name__ == '__main__':
    main()
