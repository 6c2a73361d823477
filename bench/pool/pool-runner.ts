/**
 * One measurement of `npm run bench:pool`, in a fresh process (plain JS from bench/.build), printing
 * one JSON line. The scenario comes as JSON in argv[2]; see bench/pool.ts.
 */
import 'reflect-metadata';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { TaskClient, TaskQueueServer } from 'nestjs-celery';
import { TaskPool } from 'nestjs-celery/internal/pool/task.pool';
import { TaskContext } from 'nestjs-celery/internal/context/task-context';
import { TASK_DEFAULTS } from 'nestjs-celery/internal/worker/task-options';

type Scenario =
  | {
      mode: 'raw';
      impl: 'ours-threads' | 'ours-processes' | 'piscina' | 'tinypool-threads' | 'tinypool-processes';
      m: number;
    }
  | { mode: 'e2e'; exec: 'loop' | 'threads' | 'processes'; n: number; ms: number; poolSize: number }
  | { mode: 'bullmq'; threads: boolean; n: number; ms: number; concurrency: number };

const sc = JSON.parse(process.argv[2]) as Scenario;
const REDIS = process.env.BENCH_POOL_REDIS ?? 'redis://127.0.0.1:6379/12';

// The module reads TASKQUEUE_* when it is loaded: set them first, then load it.
if (sc.mode === 'raw') {
  Object.assign(process.env, {
    TASKQUEUE_POOL: sc.impl === 'ours-threads' ? 'threads' : 'processes',
    TASKQUEUE_POOL_SIZE: '1',
    TASKQUEUE_BROKER_URL: 'memory://bench',
  });
} else if (sc.mode === 'e2e') {
  const queue = `bpool_${process.pid}`;
  Object.assign(process.env, {
    TASKQUEUE_BROKER_URL: REDIS,
    TASKQUEUE_RESULT_BACKEND: REDIS,
    TASKQUEUE_DEFAULT_QUEUE: queue,
    TASKQUEUE_POOL: sc.exec === 'loop' ? 'threads' : sc.exec,
    TASKQUEUE_POOL_SIZE: String(sc.poolSize),
    TASKQUEUE_HOSTNAME: `bpool${process.pid}@bench`,
  });
}
const { BenchPoolModule } = require('./bench-pool.module') as typeof import('./bench-pool.module');
const HERE = __dirname;
// bench/.build/bench/pool -> bench/pool (the plain JS workers are not transpiled).
const SRC_DIR = join(HERE, '..', '..', '..', 'pool');

const rssKiB = (pid: number | 'self') =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
/** Direct child processes of this process (pool workers, BullMQ's sandboxes). */
function children(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}
/** RSS per pool worker: each child's own for processes; for threads the process's growth since `before`, divided. */
function perWorkerRss(kind: 'threads' | 'processes', before: number, n: number): number {
  if (kind === 'processes') {
    const kids = children();
    return kids.length ? Math.round(kids.reduce((s, p) => s + rssKiB(p), 0) / kids.length) : 0;
  }
  return Math.round((rssKiB('self') - before) / n);
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function timeCalls(
  m: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ p50us: number; p99us: number; meanUs: number }> {
  for (let i = 0; i < 50; i++) await call(i);
  const xs: number[] = [];
  for (let i = 0; i < m; i++) {
    const t = performance.now();
    await call(i);
    xs.push((performance.now() - t) * 1000);
  }
  return {
    p50us: Math.round(pct(xs, 0.5)),
    p99us: Math.round(pct(xs, 0.99)),
    meanUs: Math.round(xs.reduce((a, b) => a + b, 0) / xs.length),
  };
}

async function raw(s: Extract<Scenario, { mode: 'raw' }>): Promise<object> {
  const file = join(SRC_DIR, 'noop.worker.js');
  const before = rssKiB('self');
  if (s.impl === 'ours-threads' || s.impl === 'ours-processes') {
    const kind = s.impl === 'ours-threads' ? 'threads' : 'processes';
    const app = await NestFactory.createApplicationContext(BenchPoolModule, { logger: ['error', 'warn'] });
    const pool = app.get(TaskPool);
    const info = {
      id: 'x',
      task: 'bench.noop',
      args: [],
      kwargs: {},
      retries: 0,
      eta: null,
      expires: null,
      parentId: null,
      rootId: 'x',
      group: null,
      groupIndex: null,
      hostname: 'h',
      origin: null,
      timeLimit: [null, null] as [null, null],
      deliveryInfo: { exchange: '', routingKey: 'q', queue: 'q', redelivered: false, priority: 0 },
    };
    const r = await timeCalls(s.m, (i) => {
      const req = { id: `t${i}`, args: [i], kwargs: {} } as never;
      return pool.run(
        'bench.noop',
        req,
        new TaskContext(
          () => info,
          TASK_DEFAULTS,
          async () => undefined,
        ),
        TASK_DEFAULTS,
        () => undefined,
      );
    });
    const rss = perWorkerRss(kind, before, 1);
    await app.close();
    return { ...r, rssPerWorkerKiB: rss };
  }
  if (s.impl === 'piscina') {
    const { Piscina } = await import('piscina');
    const p = new Piscina({ filename: file, minThreads: 1, maxThreads: 1 });
    const r = await timeCalls(s.m, (i) => p.run({ x: i }));
    const rss = perWorkerRss('threads', before, 1);
    await p.destroy();
    return { ...r, rssPerWorkerKiB: rss };
  }
  const { Tinypool } = await import('tinypool');
  const kind = s.impl === 'tinypool-threads' ? 'threads' : 'processes';
  const p = new Tinypool({
    filename: file,
    minThreads: 1,
    maxThreads: 1,
    runtime: kind === 'threads' ? 'worker_threads' : 'child_process',
  });
  const r = await timeCalls(s.m, (i) => p.run({ x: i }));
  const rss = perWorkerRss(kind, before, 1);
  await p.destroy();
  return { ...r, rssPerWorkerKiB: rss };
}

async function e2e(s: Extract<Scenario, { mode: 'e2e' }>): Promise<object> {
  const app = await NestFactory.createMicroservice(BenchPoolModule, {
    inject: [TaskQueueServer],
    useFactory: (server: TaskQueueServer) => ({ strategy: server }),
    logger: ['error', 'warn'],
  } as never);
  await app.listen();
  const client = app.get(TaskClient);
  const task = s.ms ? 'bench.burn' : s.exec === 'loop' ? 'bench.noop_loop' : 'bench.noop';
  const args = (i: number) => (s.ms ? [s.ms] : [i]);
  const before = rssKiB('self');
  // Warm-up: every pool worker booted.
  await Promise.all(
    (
      await client.sendMany(
        task,
        Array.from({ length: s.poolSize * 2 }, (_, i) => ({ args: args(i) })),
      )
    ).map((r) => r.get({ timeout: 120_000 })),
  );
  const rss = s.exec === 'loop' ? 0 : perWorkerRss(s.exec, before, s.poolSize);
  const t0 = performance.now();
  const results = await client.sendMany(
    task,
    Array.from({ length: s.n }, (_, i) => ({ args: args(i) })),
  );
  await Promise.all(results.map((r) => r.get({ timeout: 300_000 })));
  const seconds = (performance.now() - t0) / 1000;
  await app.close();
  return { seconds, perSecond: s.n / seconds, msPerTask: (seconds * 1000) / s.n, rssPerWorkerKiB: rss };
}

async function bullmq(s: Extract<Scenario, { mode: 'bullmq' }>): Promise<object> {
  const { Queue, Worker } = await import('bullmq');
  const url = new URL(REDIS);
  const connection = {
    host: url.hostname,
    port: Number(url.port),
    db: Number(url.pathname.slice(1) || 0),
    maxRetriesPerRequest: null,
  };
  const name = `bpool_${process.pid}`;
  const queue = new Queue(name, { connection, prefix: 'bpool' });
  const before = rssKiB('self');
  const worker = new Worker(name, join(SRC_DIR, 'bullmq.processor.js'), {
    connection,
    prefix: 'bpool',
    concurrency: s.concurrency,
    useWorkerThreads: s.threads,
  });
  let done = 0;
  let waiter: (() => void) | null = null;
  let target = 0;
  worker.on('completed', () => {
    done++;
    if (done >= target) waiter?.();
  });
  const runBatch = async (n: number) => {
    target = done + n;
    const finished = new Promise<void>((r) => (waiter = r));
    await queue.addBulk(
      Array.from({ length: n }, (_, i) => ({ name: 't', data: { x: i, ms: s.ms }, opts: { removeOnComplete: true } })),
    );
    await finished;
  };
  await runBatch(s.concurrency * 2);
  const rss = perWorkerRss(s.threads ? 'threads' : 'processes', before, s.concurrency);
  const t0 = performance.now();
  await runBatch(s.n);
  const seconds = (performance.now() - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { seconds, perSecond: s.n / seconds, msPerTask: (seconds * 1000) / s.n, rssPerWorkerKiB: rss };
}

(async () => {
  const out = sc.mode === 'raw' ? await raw(sc) : sc.mode === 'e2e' ? await e2e(sc) : await bullmq(sc);
  process.stdout.write(`${JSON.stringify({ scenario: sc, ...out })}\n`);
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
