#!/usr/bin/python3
# Adapted from the team's anchor scripts (celery_bench.py). Changes for
# `npm run bench` only: broker/backend URLs, the Redis DB and the RabbitMQ vhost come from the
# environment (BENCH_REDIS_DB, default 12; BENCH_AMQP_VHOST, default bench_anchors), so the
# anchors run on the same DB / own vhost as our library. Method and measurements unchanged.
"""Celery 5.2.6 anchor benchmark driver.  Run with Debian's /usr/bin/python3 (NOT pyenv).

One run = one measurement, printed as ONE JSON line on stdout (last line).

Modes
  enqueue    no worker; time N x apply_async (variants: loop | producer | group)
  prefilled  a separate producer process enqueues N and exits; then the worker is spawned;
             time spawn->done and ready->done (done = N-th task's result stored)
  e2e        worker started & ready; client enqueues N in a loop; time enqueue start -> done
  latency    worker started & ready; M sequential add.delay(i, i).get() round trips

Examples
  /usr/bin/python3 celery_bench.py enqueue   --n 10000 --variant loop --backend redis
  /usr/bin/python3 celery_bench.py prefilled --n 10000 --pool prefork -c 2 --backend redis
  /usr/bin/python3 celery_bench.py e2e       --n 10000 --broker amqp --backend rpc --collect
  /usr/bin/python3 celery_bench.py latency   --m 1000 --pool prefork -c 2

--broker redis|amqp   (redis://127.0.0.1:6379/14 | amqp://guest:guest@127.0.0.1:5672/bench_anchors)
--backend redis|rpc|none   (none = results off: task_ignore_result=True, no backend)
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
import procstat  # noqa: E402

PY = '/usr/bin/python3'
REDIS_DB = int(os.environ.get('BENCH_REDIS_DB', '12'))
REDIS_PORT = os.environ.get('BENCH_REDIS_PORT', '6379')
AMQP_VHOST = os.environ.get('BENCH_AMQP_VHOST', 'bench_anchors')
BROKERS = {
    'redis': f'redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}',
    'amqp': f'amqp://guest:guest@127.0.0.1:5672/{AMQP_VHOST}',
}
BACKENDS = {
    'redis': f'redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}',
    'rpc': 'rpc://',
    'none': 'none',
}


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['enqueue', 'prefilled', 'e2e', 'latency'])
    ap.add_argument('--n', type=int, default=10000)
    ap.add_argument('--m', type=int, default=1000, help='latency samples')
    ap.add_argument('--broker', choices=list(BROKERS), default='redis')
    ap.add_argument('--backend', choices=list(BACKENDS), default='redis')
    ap.add_argument('--pool', choices=['prefork', 'threads', 'solo'], default='prefork')
    ap.add_argument('-c', '--concurrency', type=int, default=2)
    ap.add_argument('--variant', choices=['loop', 'producer', 'group'], default='loop')
    ap.add_argument('--collect', action='store_true', help='e2e: client also fetches all N results')
    ap.add_argument('--collect-mode', choices=['resultset', 'loop'], default='resultset',
                    help='resultset: ResultSet(res).get() (join_native); loop: [r.get() for r in res]')
    ap.add_argument('--tag', default=None)
    ap.add_argument('--keep', action='store_true', help='(internal) leave queue filled, write ids')
    ap.add_argument('--ids-file', default=None)
    ap.add_argument('--timeout', type=float, default=300)
    return ap.parse_args()


def setup_env(a):
    a.tag = a.tag or uuid.uuid4().hex[:8]
    os.environ['ANC_TAG'] = a.tag
    os.environ['ANC_BROKER'] = BROKERS[a.broker]
    os.environ['ANC_BACKEND'] = BACKENDS[a.backend]
    os.environ['ANC_N'] = str(a.n)


# ----------------------------------------------------------------------------- cleanup
def redis_client():
    import redis
    return redis.Redis(host='127.0.0.1', port=int(REDIS_PORT), db=REDIS_DB)


def cleanup(a, ids):
    """Delete exactly what this run created (other users share DB 14 / the broker)."""
    r = redis_client()
    deleted = 0
    if a.backend == 'redis' and ids:
        for i in range(0, len(ids), 1000):
            deleted += r.delete(*[f'celery-task-meta-{t}' for t in ids[i:i + 1000]])
    if a.broker == 'redis':
        keys = list(r.scan_iter(match=f'*anc_{a.tag}*', count=1000))
        for i in range(0, len(keys), 1000):
            deleted += r.delete(*keys[i:i + 1000])
    else:
        import amqp
        names_q = [f'anc_{a.tag}']
        names_x = [f'anc_{a.tag}', f'anc_{a.tag}_ev', f'anc_{a.tag}_ctl.pidbox',
                   f'reply.anc_{a.tag}_ctl.pidbox']
        c = amqp.Connection('127.0.0.1:5672', userid='guest', password='guest',
                            virtual_host=AMQP_VHOST)
        c.connect()
        for q in names_q:
            ch = c.channel()
            try:
                ch.queue_delete(q)
                deleted += 1
            except Exception:
                pass
        for x in names_x:
            ch = c.channel()
            try:
                ch.exchange_delete(x)
            except Exception:
                pass
        try:
            c.close()
        except Exception:
            pass
    return deleted


def count_results(ids):
    r = redis_client()
    found = 0
    for i in range(0, len(ids), 1000):
        found += r.exists(*[f'celery-task-meta-{t}' for t in ids[i:i + 1000]])
    return found


# ----------------------------------------------------------------------------- worker
class Worker:
    def __init__(self, a, marks):
        self.a, self.marks = a, marks
        env = dict(os.environ, ANC_MARKS=marks)
        cmd = [PY, '-m', 'celery', '-A', 'tasks', 'worker', '-P', a.pool,
               '-c', str(a.concurrency), '--without-mingle', '--without-gossip',
               '-l', 'WARNING', '-n', f'anc_{a.tag}@%h']
        self.cmd = ' '.join(cmd)
        self.log = open(os.path.join(marks, 'worker.log'), 'w')
        self.t_spawn = time.time()
        self.p = subprocess.Popen(cmd, cwd=HERE, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.rss = procstat.RssSampler(self.p.pid, interval=0.2)
        self.rss.start()

    def pids(self):
        return procstat.tree(self.p.pid)

    def wait_mark(self, name, timeout):
        path = os.path.join(self.marks, name)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    return float(f.read())
            if self.p.poll() is not None:
                raise RuntimeError(f'worker exited rc={self.p.returncode}: ' + self.tail())
            time.sleep(0.002)
        raise TimeoutError(f'no {name} mark after {timeout}s; worker log: ' + self.tail())

    def mark(self, name):
        path = os.path.join(self.marks, name)
        if os.path.exists(path):
            with open(path) as f:
                return float(f.read())
        return None

    def tail(self):
        self.log.flush()
        try:
            with open(os.path.join(self.marks, 'worker.log')) as f:
                return f.read()[-1500:]
        except Exception:
            return ''

    def stop(self):
        pids = self.pids()
        self.rss.stop()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                for pid in pids:  # only the processes we started, by pid
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.p.wait(5)
        self.log.close()


# ----------------------------------------------------------------------------- enqueue
def enqueue(a, variant, n, start=0):
    from tasks import add, app
    from celery import group
    t0 = time.perf_counter()
    if variant == 'loop':
        res = [add.apply_async((i, i)) for i in range(start, start + n)]
        ids = [r.id for r in res]
    elif variant == 'producer':
        with app.producer_or_acquire() as P:
            res = [add.apply_async((i, i), producer=P) for i in range(start, start + n)]
        ids = [r.id for r in res]
    else:
        gr = group(add.s(i, i) for i in range(start, start + n)).apply_async()
        res = gr.results
        ids = [r.id for r in res]
    dt = time.perf_counter() - t0
    return res, ids, dt


def warm_connection(a):
    """Open broker/backend connections before timing (first apply_async pays connect cost)."""
    from tasks import app
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)


# ----------------------------------------------------------------------------- modes
def mode_enqueue(a):
    sp = procstat.server_pids()
    warm_connection(a)
    cpu = procstat.CpuMeter(redis=[sp['redis']], rabbitmq=[sp['rabbitmq']]).start()
    c0 = time.process_time()
    sys0 = procstat.system_busy_seconds()
    res, ids, dt = enqueue(a, a.variant, a.n)
    out = cpu.stop()
    out['client_cpu_s'] = round(time.process_time() - c0, 3)
    out['system_busy_cpu_s'] = round(procstat.system_busy_seconds() - sys0, 3)
    out.update(enqueue_s=round(dt, 3), enqueue_per_s=round(a.n / dt, 1))
    if a.keep:
        with open(a.ids_file, 'w') as f:
            json.dump(ids, f)
    else:
        out['cleanup_deleted'] = cleanup(a, ids)
    return out


def mode_prefilled(a):
    sp = procstat.server_pids()
    marks = tempfile.mkdtemp(prefix='anc_marks_')
    ids_file = os.path.join(marks, 'ids.json')
    # 1) fill the queue from a separate, short-lived producer process (no subscribers left)
    prod = subprocess.run([PY, os.path.abspath(__file__), 'enqueue', '--n', str(a.n),
                           '--broker', a.broker, '--backend', a.backend, '--variant', 'loop',
                           '--tag', a.tag, '--keep', '--ids-file', ids_file],
                          cwd=HERE, capture_output=True, text=True)
    if prod.returncode != 0:
        raise RuntimeError('producer failed: ' + prod.stderr[-2000:])
    penq = json.loads(prod.stdout.strip().splitlines()[-1])
    with open(ids_file) as f:
        ids = json.load(f)
    time.sleep(1.0)  # let the machine settle
    noise = procstat.noise_snapshot()
    # 2) start the worker on the pre-filled queue
    sys0 = procstat.system_busy_seconds()
    srv = procstat.CpuMeter(redis=[sp['redis']], rabbitmq=[sp['rabbitmq']]).start()
    w = None
    out = {'producer_enqueue_per_s': penq.get('enqueue_per_s')}
    try:
        w = Worker(a, marks)
        out['worker_cmd'] = w.cmd
        t_ready = w.wait_mark('ready', 60)
        t_done = w.wait_mark('done', a.timeout)
        srv_used = srv.stop()
        worker_cpu = procstat.cpu_seconds(w.pids())
        worker_main_cpu = procstat.cpu_seconds([w.p.pid])  # consumer/dispatcher process
        rss_at_done = procstat.rss_kb(w.pids())
        t_first = w.mark('first')
        out.update(
            startup_s=round(t_ready - w.t_spawn, 3),
            spawn_to_done_s=round(t_done - w.t_spawn, 3),
            ready_to_done_s=round(t_done - t_ready, 3),
            first_to_done_s=round(t_done - t_first, 3),
            per_s_from_spawn=round(a.n / (t_done - w.t_spawn), 1),
            per_s_from_ready=round(a.n / (t_done - t_ready), 1),
            worker_cpu_s=round(worker_cpu, 3),
            worker_main_cpu_s=round(worker_main_cpu, 3),
            redis_cpu_s=srv_used['redis_cpu_s'],
            rabbitmq_cpu_s=srv_used['rabbitmq_cpu_s'],
            system_busy_cpu_s=round(procstat.system_busy_seconds() - sys0, 3),
            worker_rss_at_done_mb=round(rss_at_done / 1024, 1),
            worker_rss_peak_mb=round(w.rss.peak_kb / 1024, 1),
            worker_main_rss_peak_mb=round(w.rss.peak_main_kb / 1024, 1),
            worker_pss_peak_mb=round(w.rss.peak_pss_kb / 1024, 1),
            worker_procs=len(w.pids()),
        )
        if a.backend == 'redis':
            out['results_found'] = count_results(ids)
    finally:
        if w is not None:
            w.stop()
        out['cleanup_deleted'] = cleanup(a, ids)
        shutil.rmtree(marks, ignore_errors=True)
    out['noise'] = noise
    return out


def start_ready_worker(a, marks, holder):
    w = Worker(a, marks)
    holder.append(w)
    w.wait_mark('ready', 60)
    warm_connection(a)
    # one warm-up task so that connections / pubsub / pool children are all up
    from tasks import add
    r = add.apply_async((0, 0))
    if a.backend != 'none':
        r.get(timeout=30)
    time.sleep(1.0)
    return w, r.id


def mode_e2e(a):
    sp = procstat.server_pids()
    marks = tempfile.mkdtemp(prefix='anc_marks_')
    os.environ['ANC_N'] = str(a.n + 1)  # +1: the warm-up task also counts
    holder, ids, out = [], [], {}
    try:
        w, warm_id = start_ready_worker(a, marks, holder)
        ids.append(warm_id)
        out['worker_cmd'] = w.cmd
        noise = procstat.noise_snapshot()
        sys0 = procstat.system_busy_seconds()
        cpu = procstat.CpuMeter(redis=[sp['redis']], rabbitmq=[sp['rabbitmq']], worker=w.pids).start()
        c0 = time.process_time()
        t0 = time.time()
        res, new_ids, dt = enqueue(a, 'loop', a.n, start=1)
        ids += new_ids
        t_enq = time.time()
        t_done = w.wait_mark('done', a.timeout)
        used = cpu.stop()
        out.update(
            enqueue_per_s=round(a.n / dt, 1),
            enq_start_to_done_s=round(t_done - t0, 3),
            per_s_e2e=round(a.n / (t_done - t0), 1),
            drain_after_enqueue_s=round(max(0.0, t_done - t_enq), 3),
            client_cpu_s=round(time.process_time() - c0, 3),
            worker_cpu_s=used['worker_cpu_s'], redis_cpu_s=used['redis_cpu_s'],
            rabbitmq_cpu_s=used['rabbitmq_cpu_s'],
            system_busy_cpu_s=round(procstat.system_busy_seconds() - sys0, 3),
            worker_rss_peak_mb=round(w.rss.peak_kb / 1024, 1),
            worker_pss_peak_mb=round(w.rss.peak_pss_kb / 1024, 1),
            worker_rss_at_done_mb=round(procstat.rss_kb(w.pids()) / 1024, 1),
        )
        if a.collect and a.backend != 'none':
            t_c0 = time.time()
            # ResultSet.get -> join_native (pubsub for redis, reply queue for rpc);
            # a naive [r.get() for r in res] is pathological on rpc:// (~50 results/s seen)
            from celery.result import ResultSet
            if a.collect_mode == 'loop':
                vals = [r.get(timeout=a.timeout) for r in res]
            else:
                vals = ResultSet(res).get(timeout=a.timeout)
            t_c = time.time()
            assert len(vals) == a.n and vals[-1] == 2 * a.n, (len(vals), vals[-1])
            out.update(collect_s=round(t_c - t_c0, 3),
                       per_s_e2e_collected=round(a.n / (t_c - t0), 1))
        if a.backend == 'redis':
            out['results_found'] = count_results(ids)
        out['noise'] = noise
    finally:
        for w in holder:
            w.stop()
        out['cleanup_deleted'] = cleanup(a, ids)
        shutil.rmtree(marks, ignore_errors=True)
    return out


def mode_latency(a):
    from tasks import add
    marks = tempfile.mkdtemp(prefix='anc_marks_')
    os.environ['ANC_N'] = '0'
    holder, ids, out = [], [], {}
    try:
        w, warm_id = start_ready_worker(a, marks, holder)
        ids.append(warm_id)
        out['worker_cmd'] = w.cmd
        for i in range(50):  # warm-up
            r = add.delay(i, i)
            ids.append(r.id)
            r.get(timeout=30)
        noise = procstat.noise_snapshot()
        lat = []
        for i in range(a.m):
            t0 = time.perf_counter()
            r = add.delay(i, i)
            v = r.get(timeout=30)
            lat.append((time.perf_counter() - t0) * 1000)
            ids.append(r.id)
            assert v == 2 * i
        s = sorted(lat)

        def pct(p):
            return s[max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))]
        out.update(n=len(s), mean_ms=round(sum(s) / len(s), 3), p50_ms=round(pct(50), 3),
                   p95_ms=round(pct(95), 3), p99_ms=round(pct(99), 3), max_ms=round(s[-1], 3),
                   worker_rss_peak_mb=round(w.rss.peak_kb / 1024, 1), noise=noise)
    finally:
        for w in holder:
            w.stop()
        out['cleanup_deleted'] = cleanup(a, ids)
        shutil.rmtree(marks, ignore_errors=True)
    return out


def main():
    a = parse()
    setup_env(a)
    sys.path.insert(0, HERE)
    base = {'bench': 'celery', 'mode': a.mode, 'n': a.n if a.mode != 'latency' else a.m,
            'broker': a.broker, 'backend': a.backend}
    if a.mode == 'enqueue':
        base['variant'] = a.variant
    else:
        base.update(pool=a.pool, concurrency=a.concurrency)
    if a.mode == 'e2e':
        base['collect'] = a.collect
        if a.collect:
            base['collect_mode'] = a.collect_mode
    fn = {'enqueue': mode_enqueue, 'prefilled': mode_prefilled, 'e2e': mode_e2e,
          'latency': mode_latency}[a.mode]
    try:
        base.update(fn(a))
        base['ok'] = True
    except Exception as e:  # report failures honestly, as data
        base['ok'] = False
        base['error'] = f'{type(e).__name__}: {e}'[:3000]
    print(json.dumps(base), flush=True)


if __name__ == '__main__':
    main()
