/**
 * `npm run bench [-- --quick | --deep] [--reps 3] [--only redis.drain,latency] [--profile] [--lib-rev HEAD] [--against-rev REV]
 *                [--concurrency 100] [--prefetch-multiplier 4] [--no-anchors]`
 *
 * One invocation measures our library and the anchors (BullMQ 6.7.0, Python Celery 5.2.6 prefork -c 2,
 * raw amqplib) on the same workload (N no-op `add(x, y)` tasks, results stored), on the same Redis
 * (127.0.0.1:6379, DB 12) and RabbitMQ (127.0.0.1:5672, a vhost of our own, deleted at the end),
 * prints a table with ratios ours/anchor and PASS/FAIL targets, and writes everything as JSON to
 * bench/results/<timestamp>.json. See bench/README.md for the method.
 */
import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import * as amqp from 'amqplib';
import { AGAINST_BUILD, BUILD, ROOT, build } from './build';
import type { BenchConfig } from './config';
import {
  commandCalls,
  cpuSeconds,
  diffCalls,
  latencyStats,
  loadavg,
  now,
  redisCli,
  redisMonitorClients,
  rssKb,
  serverPids,
  sleep,
  systemBusySeconds,
} from './lib/proc';

// ---------------------------------------------------------------- flags
const argv = process.argv.slice(2);
const has = (f: string) => argv.includes(`--${f}`);
const opt = (f: string, def: string) => {
  const i = argv.indexOf(`--${f}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const QUICK = has('quick');
const DEEP = has('deep');
const REPS = Number(opt('reps', '1'));
const ONLY = opt('only', '').split(',').filter(Boolean);
const PROFILE = has('profile');
const ANCHORS = !has('no-anchors');
const LIB_REV = opt('lib-rev', '') || undefined;
/** Also run our Redis drain, depth-100k drain and round trip with the library of this revision, interleaved. */
const AGAINST_REV = opt('against-rev', '') || undefined;
const CONC = Number(opt('concurrency', '100'));
const PFM = Number(opt('prefetch-multiplier', '4'));
/** Extra node flags for a second variant of our drain scenarios (e.g. "--max-semi-space-size=32"), run interleaved with the plain one. */
const WORKER_FLAGS = opt('worker-flags', '').split(' ').filter(Boolean);
const PREFETCH = CONC * PFM;
const N_DRAIN = Number(opt('n-drain', QUICK ? '2000' : '20000'));
const N_ENQ = Number(opt('n-enqueue', QUICK ? '1000' : '10000'));
const M_LAT = Number(opt('m-latency', QUICK ? '200' : '1000'));
const DEPTHS = QUICK ? [1000] : DEEP ? [1000, 10000, 100000, 1000000] : [1000, 10000, 100000];

const REDIS_DB = 12;
/** BENCH_REDIS_PORT (default 6379): run against a private Redis on a shared box. */
const REDIS_PORT = process.env.BENCH_REDIS_PORT ?? '6379';
const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}/${REDIS_DB}`;
const RUN_TAG = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const VHOST = `bench_nestq_${RUN_TAG}`;
const AMQP_URL = `amqp://guest:guest@127.0.0.1:5672/${VHOST}`;
const PY = '/usr/bin/python3';
const ANCHOR_DIR = join(__dirname, 'anchors');
const RESULTS_DIR = join(__dirname, 'results');
const PROF_DIR = join(RESULTS_DIR, `prof-${RUN_TAG}`);

const children = new Set<ChildProcess>();
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const round = (x: number, d = 1) => (Number.isFinite(x) ? +x.toFixed(d) : x);

type Rec = Record<string, any>;

// ---------------------------------------------------------------- child helpers
/** Runs a command that prints one JSON line; returns that object (ok:false with the tail on failure). */
function runJson(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 900_000,
  cwd = ROOT,
): Promise<Rec> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      children.delete(child);
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      try {
        resolve(JSON.parse(line!));
      } catch {
        resolve({
          ok: false,
          error: `no JSON line (exit ${code})`,
          stdout: out.slice(-1500),
          stderr: err.slice(-1500),
        });
      }
    });
  });
}

function ourCfg(broker: 'redis' | 'amqp', tag: string): BenchConfig {
  return {
    brokerUrl: broker === 'redis' ? REDIS_URL : AMQP_URL,
    resultBackend: REDIS_URL,
    queue: `bq_${tag}`,
    keyPrefix: `bqb:${tag}:`,
    concurrency: CONC,
    prefetchMultiplier: PFM,
  };
}

const nodeReq = ['-r', join(BUILD, 'paths.js')];
const runClient = (cfg: BenchConfig, args: string[], dir = BUILD) =>
  runJson('node', ['-r', join(dir, 'paths.js'), join(dir, 'bench', 'client.js'), ...args], {
    BENCH_CFG: JSON.stringify(cfg),
  });

interface Kid {
  child: ChildProcess;
  tSpawn: number;
  tReady: number | null;
  tListening: number | null;
  count: number;
  tFirst: number | null;
  tLast: number | null;
  rssPeakKb: number;
  errors: string[];
  memListening?: Rec;
  memStopped?: Rec;
  exited?: number | null;
  ready: Promise<void>;
  listening: Promise<void>;
}

function spawnWorker(
  cfg: BenchConfig,
  onProgress: () => void,
  profileDir?: string,
  flags: string[] = [],
  dir = BUILD,
): Kid {
  const execArgv = [...flags, '-r', join(dir, 'paths.js')];
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  }
  const child = fork(join(dir, 'bench', 'worker.js'), [], {
    cwd: ROOT,
    execArgv,
    env: { ...process.env, BENCH_CFG: JSON.stringify(cfg) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  const k = {
    child,
    tSpawn: now(),
    tReady: null,
    tListening: null,
    count: 0,
    tFirst: null,
    tLast: null,
    rssPeakKb: 0,
    errors: [],
  } as unknown as Kid;
  let readyRes!: () => void;
  let listenRes!: () => void;
  let rej!: (e: Error) => void;
  k.ready = new Promise<void>((res, r) => ((readyRes = res), (rej = r)));
  k.listening = new Promise<void>((res, r) => {
    listenRes = res;
    const prev = rej;
    rej = (e) => (prev(e), r(e));
  });
  k.ready.catch(() => undefined);
  k.listening.catch(() => undefined);
  child.on('message', (m: Rec) => {
    if (m.type === 'ready') {
      k.tReady = m.t;
      readyRes();
    } else if (m.type === 'listening') {
      k.tListening = m.t;
      k.memListening = m.mem;
      listenRes();
    } else if (m.type === 'stopped') k.memStopped = m.mem;
    else if (m.type === 'progress') {
      k.count = m.count;
      k.tFirst = m.tFirst;
      k.tLast = m.tLast;
      onProgress();
    } else if (m.type === 'failed' || m.type === 'error') k.errors.push(String(m.err).slice(0, 500));
  });
  child.on('exit', (code) => {
    k.exited = code;
    children.delete(child);
    rej(new Error(`worker exited ${code}: ${k.errors.join(' | ')} ${stderr}`));
    onProgress();
  });
  return k;
}

function waitCount(kids: Kid[], n: number, timeoutMs: number): { promise: Promise<number>; poke: () => void } {
  let poke = () => {};
  const promise = new Promise<number>((resolve, reject) => {
    const t = setTimeout(
      () =>
        reject(
          new Error(
            `timeout: ${kids.reduce((a, k) => a + k.count, 0)}/${n} done; errors: ${kids
              .flatMap((k) => k.errors)
              .slice(0, 3)
              .join(' | ')}`,
          ),
        ),
      timeoutMs,
    );
    poke = () => {
      const total = kids.reduce((a, k) => a + k.count, 0);
      if (total >= n) {
        clearTimeout(t);
        resolve(Math.max(...kids.map((k) => k.tLast ?? 0)));
      } else if (kids.some((k) => k.exited !== undefined)) {
        clearTimeout(t);
        reject(
          new Error(
            `worker exited early: ${kids
              .flatMap((k) => k.errors)
              .slice(0, 3)
              .join(' | ')}`,
          ),
        );
      }
    };
  });
  promise.catch(() => undefined); // handled where it is awaited; never an unhandled rejection
  return { promise, poke: () => poke() };
}

async function stopWorkers(kids: Kid[]): Promise<void> {
  await Promise.all(
    kids.map(
      (k) =>
        new Promise<void>((res) => {
          if (k.exited !== undefined) return res();
          const t = setTimeout(() => (k.child.kill('SIGKILL'), res()), 20_000); // our own child, by handle
          k.child.once('exit', () => (clearTimeout(t), res()));
          k.child.send('stop');
        }),
    ),
  );
}

function rssSampler(kids: Kid[]): () => void {
  const iv = setInterval(() => {
    for (const k of kids) k.rssPeakKb = Math.max(k.rssPeakKb, rssKb(k.child.pid));
  }, 200);
  return () => clearInterval(iv);
}

// ---------------------------------------------------------------- redis / rabbit bookkeeping
let redis: Redis;
let libBuilt = '';
async function scanDel(pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [c, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = c;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}
async function scanCount(pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [c, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = c;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

function rabbitctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', ['-q', ...args], { encoding: 'utf8', timeout: 60_000 });
}
async function amqpDeleteQueue(queue: string): Promise<void> {
  const c = await amqp.connect(AMQP_URL);
  try {
    const ch = await c.createChannel();
    await ch.deleteQueue(queue);
  } finally {
    await c.close().catch(() => undefined);
  }
}

function noise(): Rec {
  return { loadavg: loadavg(), redis_monitor_clients: redisMonitorClients() };
}

// ---------------------------------------------------------------- our scenarios
/** Pre-fill a queue with our client (separate process), then start `procs` worker processes on it. */
async function ourDrain(
  broker: 'redis' | 'amqp',
  n: number,
  procs = 1,
  profile = false,
  flags: string[] = [],
  dir = BUILD,
): Promise<Rec> {
  const tag = `${RUN_TAG}_${randomBytes(3).toString('hex')}`;
  const cfg = ourCfg(broker, tag);
  const out: Rec = {
    system: 'ours',
    broker,
    n,
    procs,
    concurrency: CONC,
    prefetch_multiplier: PFM,
    prefetch: PREFETCH,
  };
  let kids: Kid[] = [];
  try {
    const pre = await runClient(cfg, ['prefill', '--n', String(n)], dir);
    if (!pre.ok) throw new Error(`prefill failed: ${pre.error} ${pre.stderr ?? ''}`);
    out.prefill_per_s = pre.per_s;
    if (broker === 'redis') {
      const len = await redis.llen(cfg.keyPrefix + cfg.queue);
      if (len !== n) throw new Error(`prefill: queue holds ${len}, expected ${n}`);
    }
    await sleep(QUICK ? 500 : 1000); // let the machine settle after the prefill
    out.noise = noise();
    const sp = serverPids();
    const sys0 = systemBusySeconds();
    const r0 = cpuSeconds(sp.redis);
    const q0 = cpuSeconds(sp.rabbitmq);
    const calls0 = commandCalls();
    let poke = () => {};
    kids = Array.from({ length: procs }, () =>
      spawnWorker(cfg, () => poke(), profile ? join(PROF_DIR, broker) : undefined, flags, dir),
    );
    const w = waitCount(kids, n, Math.max(120_000, n * 5));
    poke = w.poke;
    const stopRss = rssSampler(kids);
    try {
      await Promise.all(kids.map((k) => k.ready));
      const tDone = await w.promise;
      const wall = (now() - Math.min(...kids.map((k) => k.tSpawn))) / 1000;
      const workerCpu = kids.reduce((a, k) => a + cpuSeconds(k.child.pid), 0);
      const redisCpu = cpuSeconds(sp.redis) - r0;
      const rabbitCpu = cpuSeconds(sp.rabbitmq) - q0;
      const busy = systemBusySeconds() - sys0;
      const calls = diffCalls(calls0, commandCalls());
      const tSpawn = Math.min(...kids.map((k) => k.tSpawn));
      // From the first process ready: it consumes alone until the others are (a small N can end before).
      const tReady = Math.min(...kids.map((k) => k.tReady!));
      const tFirst = Math.min(...kids.map((k) => k.tFirst ?? Infinity));
      Object.assign(out, {
        startup_s: round((tReady - tSpawn) / 1000, 3),
        ready_to_done_s: round((tDone - tReady) / 1000, 3),
        first_to_done_s: round((tDone - tFirst) / 1000, 3),
        per_s_from_ready: round(n / ((tDone - tReady) / 1000)),
        per_s_from_spawn: round(n / ((tDone - tSpawn) / 1000)),
        worker_cpu_s: round(workerCpu, 2),
        worker_cpu_us_per_task: round((workerCpu * 1e6) / n, 0),
        redis_cpu_s: round(redisCpu, 2),
        redis_cpu_us_per_task: round((redisCpu * 1e6) / n, 0),
        rabbitmq_cpu_s: round(rabbitCpu, 2),
        foreign_cores: round((busy - workerCpu - redisCpu - rabbitCpu) / wall, 2),
        worker_rss_at_done_mb: round(kids.reduce((a, k) => a + rssKb(k.child.pid), 0) / 1024),
        worker_rss_peak_mb: 0,
        redis_calls_per_task: Object.fromEntries(
          Object.entries(calls)
            .filter(([, v]) => v >= n / 50)
            .map(([k, v]) => [k, round(v / n, 2)]),
        ),
        failed_events: kids.reduce((a, k) => a + k.errors.length, 0),
      });
    } finally {
      stopRss();
      out.worker_rss_peak_mb = Math.max(
        out.worker_rss_at_done_mb ?? 0,
        round(kids.reduce((a, k) => a + k.rssPeakKb, 0) / 1024),
      );
      await stopWorkers(kids);
      out.worker_memory_at_stop_mb = kids[0]?.memStopped;
    }
    out.results_found = await scanCount(`${cfg.keyPrefix}celery-task-meta-*`);
    out.results_ok = out.results_found === n;
    if (broker === 'redis') out.left_in_queue = await redis.llen(cfg.keyPrefix + cfg.queue);
    out.ok = true;
  } catch (err) {
    out.ok = false;
    out.error = String((err as Error)?.message ?? err).slice(0, 2000);
    await stopWorkers(kids);
  } finally {
    out.cleanup_deleted = await scanDel(`${cfg.keyPrefix}*`);
    if (broker === 'amqp') await amqpDeleteQueue(cfg.queue).catch(() => undefined);
  }
  return out;
}

async function ourEnqueue(broker: 'redis' | 'amqp', n: number): Promise<Rec> {
  const tag = `${RUN_TAG}_${randomBytes(3).toString('hex')}`;
  const cfg = ourCfg(broker, tag);
  const noiseNow = noise();
  const res = await runClient(cfg, [
    'enqueue',
    '--n',
    String(n),
    '--variants',
    'await,concurrent,batch',
    '--window',
    '100',
    '--chunk',
    '1000',
  ]);
  const out: Rec = { system: 'ours', broker, n, noise: noiseNow, ...res };
  if (broker === 'redis') out.queue_len_after = await redis.llen(cfg.keyPrefix + cfg.queue);
  out.cleanup_deleted = await scanDel(`${cfg.keyPrefix}*`);
  if (broker === 'amqp') await amqpDeleteQueue(cfg.queue).catch(() => undefined);
  return out;
}

async function ourLatency(m: number, form: 'awaited' | 'chained' = 'awaited', dir = BUILD): Promise<Rec> {
  const tag = `${RUN_TAG}_${randomBytes(3).toString('hex')}`;
  const cfg = { ...ourCfg('redis', tag), trace: true };
  const out: Rec = { system: 'ours', broker: 'redis', m, form, concurrency: CONC, prefetch_multiplier: PFM };
  const kids = [spawnWorker(cfg, () => undefined, undefined, [], dir)];
  const stopRss = rssSampler(kids);
  try {
    await kids[0].listening;
    await sleep(1000);
    out.worker_rss_idle_mb = round(rssKb(kids[0].child.pid) / 1024);
    out.worker_memory_listening_mb = kids[0].memListening;
    out.noise = noise();
    const calls0 = commandCalls();
    const res = await runClient(cfg, ['latency', '--m', String(m), '--warmup', '50', '--form', form], dir);
    const calls = diffCalls(calls0, commandCalls());
    const { trace: clientTrace, ...rest } = res;
    Object.assign(out, rest);
    // Where the time of one round trip goes (timestamps of two processes on one machine's clock):
    // publish = delay() until Redis acked the LPUSH; to_worker = LPUSH acked → the worker has the
    // delivery (BLMOVE wake-up + reserve script); run_store = delivery → result stored (task, SETEX+PUBLISH
    // script); to_client = stored → get() resolved in the client (PUBLISH push, or its SUBSCRIBE + GET).
    if (Array.isArray(clientTrace)) {
      const w = await new Promise<Map<string, [number, number]>>((resolve) => {
        const t = setTimeout(() => resolve(new Map()), 5000);
        kids[0].child.on(
          'message',
          (msg: Rec) => msg.type === 'trace' && (clearTimeout(t), resolve(new Map(msg.trace))),
        );
        kids[0].child.send('trace');
      });
      const parts: Record<string, number[]> = { publish: [], to_worker: [], run_store: [], to_client: [] };
      for (const [id, a0, a1, a2] of clientTrace as Array<[string, number, number, number]>) {
        const ws = w.get(id);
        if (!ws || !ws[1]) continue;
        // The chained form has no "publish acked" time (it is not awaited apart from the result).
        if (Number.isFinite(a1)) parts.publish.push(a1 - a0);
        parts.to_worker.push(ws[0] - (Number.isFinite(a1) ? a1 : a0));
        parts.run_store.push(ws[1] - ws[0]);
        parts.to_client.push(a2 - ws[1]);
      }
      out.breakdown_ms = Object.fromEntries(
        Object.entries(parts)
          .filter(([, v]) => v.length)
          .map(([k, v]) => [k, latencyStats(v)]),
      );
    }
    // Server-wide INFO commandstats delta per round trip (other tenants' traffic included; commands
    // run inside Lua scripts are counted too, so evalsha + its inner calls are one round trip).
    out.redis_calls_per_task = Object.fromEntries(
      Object.entries(calls)
        .filter(([, v]) => v >= (m + 50) / 20)
        .map(([k, v]) => [k, round(v / (m + 50), 2)]),
    );
    out.worker_rss_after_mb = round(rssKb(kids[0].child.pid) / 1024);
  } catch (err) {
    out.ok = false;
    out.error = String(err);
  } finally {
    stopRss();
    out.worker_rss_peak_mb = round(kids[0].rssPeakKb / 1024);
    await stopWorkers(kids);
    out.cleanup_deleted = await scanDel(`${cfg.keyPrefix}*`);
  }
  return out;
}

/** Idle RSS of an empty Nest microservice (bench/floor.ts): the floor under any Nest worker. */
async function nestFloor(): Promise<Rec> {
  const child = fork(join(BUILD, 'bench', 'floor.js'), [], {
    cwd: ROOT,
    execArgv: [...nodeReq],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  children.add(child);
  try {
    const mem = await new Promise<Rec>((res, rej) => {
      child.on('message', (m: Rec) => m.type === 'listening' && res(m.mem));
      child.on('exit', (c) => rej(new Error(`floor process exited ${c}`)));
    });
    await sleep(1000);
    return {
      system: 'nest-empty',
      worker_rss_idle_mb: round(rssKb(child.pid) / 1024),
      memory_listening_mb: mem,
      ok: true,
    };
  } finally {
    child.send('stop');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    children.delete(child);
  }
}

// ---------------------------------------------------------------- anchors
const anchorEnv = { BENCH_REDIS_DB: String(REDIS_DB), BENCH_REDIS_PORT: REDIS_PORT, BENCH_AMQP_VHOST: VHOST };
const bullmq = (args: string[]) =>
  runJson('node', [join(ANCHOR_DIR, 'bullmq_bench.js'), ...args], anchorEnv, 900_000, ANCHOR_DIR);
const celery = (args: string[]) =>
  runJson(PY, [join(ANCHOR_DIR, 'celery_bench.py'), ...args], anchorEnv, 900_000, ANCHOR_DIR);
const rawAmqp = (args: string[]) =>
  runJson('node', [join(ANCHOR_DIR, 'raw_amqp_consume.js'), ...args], anchorEnv, 900_000, ANCHOR_DIR);
const rawRedisRtt = (args: string[]) =>
  runJson('node', [join(ANCHOR_DIR, 'raw_redis_rtt.js'), ...args], anchorEnv, 900_000, ANCHOR_DIR);

// ---------------------------------------------------------------- the plan
interface Scenario {
  id: string;
  run: () => Promise<Rec>;
  anchor?: boolean;
}

function plan(): Scenario[] {
  const S: Scenario[] = [];
  const add = (id: string, run: () => Promise<Rec>, anchor = false) => S.push({ id, run, anchor });
  // Redis drain, one worker process started after the queue is full
  add('redis.drain.ours', () => ourDrain('redis', N_DRAIN, 1, PROFILE));
  if (WORKER_FLAGS.length) add('redis.drain.ours+flags', () => ourDrain('redis', N_DRAIN, 1, false, WORKER_FLAGS));
  if (AGAINST_REV) add('redis.drain.ours@rev', () => ourDrain('redis', N_DRAIN, 1, false, [], AGAINST_BUILD));
  add(
    'redis.drain.bullmq.c100',
    () => bullmq(['process', '--n', String(N_DRAIN), '--concurrency', '100', '--remove', '0']),
    true,
  );
  add(
    'redis.drain.celery.prefork2',
    () =>
      celery([
        'prefilled',
        '--n',
        String(N_DRAIN),
        '--broker',
        'redis',
        '--backend',
        'redis',
        '--pool',
        'prefork',
        '-c',
        '2',
      ]),
    true,
  );
  // enqueue
  add('redis.enqueue.ours', () => ourEnqueue('redis', N_ENQ));
  for (const v of ['add', 'addpar', 'bulk'])
    add(
      `redis.enqueue.bullmq.${v}`,
      () => bullmq(['enqueue', '--n', String(N_ENQ), '--variant', v, '--window', '100', '--chunk', '1000']),
      true,
    );
  if (!QUICK)
    add(
      'redis.enqueue.celery.loop',
      () => celery(['enqueue', '--n', String(N_ENQ), '--broker', 'redis', '--backend', 'redis', '--variant', 'loop']),
      true,
    );
  // latency
  add('redis.latency.ours', () => ourLatency(M_LAT));
  if (AGAINST_REV) add('redis.latency.ours@rev', () => ourLatency(M_LAT, 'awaited', AGAINST_BUILD));
  add('redis.latency.ours.chained', () => ourLatency(M_LAT, 'chained'));
  add(
    'redis.latency.bullmq.c1',
    () => bullmq(['latency', '--m', String(M_LAT), '--concurrency', '1', '--remove', '0']),
    true,
  );
  add('redis.latency.raw', () => rawRedisRtt(['--m', String(M_LAT)]), true);
  if (!QUICK)
    add(
      'redis.latency.celery.prefork2',
      () =>
        celery([
          'latency',
          '--m',
          String(M_LAT),
          '--broker',
          'redis',
          '--backend',
          'redis',
          '--pool',
          'prefork',
          '-c',
          '2',
        ]),
      true,
    );
  // scale
  add('scale.redis.drain.ours.2procs', () => ourDrain('redis', N_DRAIN, 2));
  for (const d of DEPTHS) {
    add(`scale.redis.depth.ours.${d}`, () => ourDrain('redis', d, 1));
    if (AGAINST_REV && d === Math.max(...DEPTHS))
      add(`scale.redis.depth.ours@rev.${d}`, () => ourDrain('redis', d, 1, false, [], AGAINST_BUILD));
  }
  if (WORKER_FLAGS.length)
    for (const d of DEPTHS)
      add(`scale.redis.depth.ours+flags.${d}`, () => ourDrain('redis', d, 1, false, WORKER_FLAGS));
  // depth 100k beside BullMQ at the same depth (first result → last result, and ready → done)
  if (DEPTHS.includes(100000))
    add(
      'scale.redis.depth.bullmq.c100.100000',
      () => bullmq(['process', '--n', '100000', '--concurrency', '100', '--remove', '0']),
      true,
    );
  add('floor.nest.empty', () => nestFloor());
  // RabbitMQ
  add('amqp.drain.ours', () => ourDrain('amqp', N_DRAIN, 1, PROFILE));
  add(
    'amqp.drain.celery.prefork2',
    () =>
      celery([
        'prefilled',
        '--n',
        String(N_DRAIN),
        '--broker',
        'amqp',
        '--backend',
        'redis',
        '--pool',
        'prefork',
        '-c',
        '2',
      ]),
    true,
  );
  add(
    'amqp.raw.amqplib',
    () => rawAmqp(['--n', String(N_DRAIN), '--prefetch', String(PREFETCH), '--vhost', VHOST, '--bytes', '500']),
    true,
  );
  if (DEPTHS.includes(100000)) {
    add('amqp.depth.ours.100000', () => ourDrain('amqp', 100000, 1));
    add(
      'amqp.depth.raw.amqplib.100000',
      () => rawAmqp(['--n', '100000', '--prefetch', String(PREFETCH), '--vhost', VHOST, '--bytes', '500']),
      true,
    );
  }
  add('amqp.enqueue.ours', () => ourEnqueue('amqp', N_ENQ));
  add(
    'amqp.enqueue.celery.loop',
    () => celery(['enqueue', '--n', String(N_ENQ), '--broker', 'amqp', '--backend', 'redis', '--variant', 'loop']),
    true,
  );
  return S.filter((s) => (ANCHORS || !s.anchor) && (!ONLY.length || ONLY.some((o) => s.id.includes(o))));
}

// ---------------------------------------------------------------- report
const median = (xs: number[]) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
function get(o: Rec | undefined, path: string): number {
  let v: any = o;
  for (const p of path.split('.')) v = v?.[p];
  return typeof v === 'number' ? v : NaN;
}

interface Row {
  section: string;
  metric: string;
  ours: number;
  anchor?: number;
  anchorName?: string;
  unit: string;
  ratio?: number;
  target?: string;
  pass?: boolean | null;
  note?: string;
}

function fmt(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const s =
    Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

function buildRows(results: Record<string, Rec[]>): Row[] {
  const m = (id: string, path: string) =>
    median((results[id] ?? []).filter((r) => r.ok !== false).map((r) => get(r, path)));
  const rows: Row[] = [];
  const ratioRow = (
    section: string,
    metric: string,
    ours: number,
    anchor: number,
    anchorName: string,
    unit: string,
    target?: { min?: number; max?: number; text: string },
    note?: string,
  ) => {
    const ratio = ours / anchor;
    let pass: boolean | null | undefined;
    if (target)
      pass = Number.isFinite(ratio) ? (target.min !== undefined ? ratio >= target.min : ratio <= target.max!) : null;
    rows.push({ section, metric, ours, anchor, anchorName, unit, ratio, target: target?.text, pass, note });
  };
  const absRow = (
    section: string,
    metric: string,
    ours: number,
    unit: string,
    target?: { max: number; text: string },
    note?: string,
  ) => {
    rows.push({
      section,
      metric,
      ours,
      unit,
      target: target?.text,
      pass: target ? (Number.isFinite(ours) ? ours <= target.max : null) : undefined,
      note,
    });
  };
  const drain = m('redis.drain.ours', 'per_s_from_ready');
  // Redis drain
  ratioRow(
    'Redis drain (1 worker process, results stored)',
    'tasks/s ready→done',
    drain,
    m('redis.drain.bullmq.c100', 'per_s_from_ready'),
    'BullMQ c100',
    '/s',
    { min: 2, text: '≥ 2× BullMQ' },
  );
  ratioRow(
    'Redis drain (1 worker process, results stored)',
    'tasks/s ready→done',
    drain,
    m('redis.drain.celery.prefork2', 'per_s_from_ready'),
    'Celery prefork-2',
    '/s',
    { min: 25, text: '≥ 25× Celery' },
  );
  ratioRow(
    'Redis drain (1 worker process, results stored)',
    'tasks/s spawn→done',
    m('redis.drain.ours', 'per_s_from_spawn'),
    m('redis.drain.bullmq.c100', 'per_s_from_spawn'),
    'BullMQ c100',
    '/s',
  );
  ratioRow(
    'Redis drain (1 worker process, results stored)',
    'worker CPU µs/task',
    m('redis.drain.ours', 'worker_cpu_us_per_task'),
    (m('redis.drain.bullmq.c100', 'worker_cpu_s') * 1e6) / N_DRAIN,
    'BullMQ c100',
    'µs',
  );
  ratioRow(
    'Redis drain (1 worker process, results stored)',
    'Redis CPU µs/task',
    m('redis.drain.ours', 'redis_cpu_us_per_task'),
    (m('redis.drain.bullmq.c100', 'redis_cpu_s') * 1e6) / N_DRAIN,
    'BullMQ c100',
    'µs',
  );
  if (results['redis.drain.ours+flags']) {
    const sec = `Our worker with node ${WORKER_FLAGS.join(' ')} (vs without, same run)`;
    ratioRow(sec, `drain ${N_DRAIN} tasks/s`, m('redis.drain.ours+flags', 'per_s_from_ready'), drain, 'without', '/s');
    ratioRow(
      sec,
      `drain ${N_DRAIN} RSS at done`,
      m('redis.drain.ours+flags', 'worker_rss_at_done_mb'),
      m('redis.drain.ours', 'worker_rss_at_done_mb'),
      'without',
      'MB',
    );
    for (const d of DEPTHS) {
      if (!results[`scale.redis.depth.ours+flags.${d}`]) continue;
      ratioRow(
        sec,
        `depth ${d} tasks/s`,
        m(`scale.redis.depth.ours+flags.${d}`, 'per_s_from_ready'),
        m(`scale.redis.depth.ours.${d}`, 'per_s_from_ready'),
        'without',
        '/s',
      );
      ratioRow(
        sec,
        `depth ${d} RSS at done`,
        m(`scale.redis.depth.ours+flags.${d}`, 'worker_rss_at_done_mb'),
        m(`scale.redis.depth.ours.${d}`, 'worker_rss_at_done_mb'),
        'without',
        'MB',
      );
    }
  }
  if (AGAINST_REV) {
    const sec = `Ours against --against-rev ${AGAINST_REV} (same run, interleaved; ratio = this tree / that revision)`;
    const pair = (metric: string, id: string, path: string, unit: string) => {
      if (results[`${id}@rev`]) ratioRow(sec, metric, m(id, path), m(`${id}@rev`, path), AGAINST_REV, unit);
    };
    pair(`drain ${N_DRAIN} tasks/s`, 'redis.drain.ours', 'per_s_from_ready', '/s');
    pair(`drain ${N_DRAIN} worker CPU µs/task`, 'redis.drain.ours', 'worker_cpu_us_per_task', 'µs');
    const deepest = Math.max(...DEPTHS);
    if (results[`scale.redis.depth.ours@rev.${deepest}`])
      ratioRow(
        sec,
        `depth ${deepest} tasks/s`,
        m(`scale.redis.depth.ours.${deepest}`, 'per_s_from_ready'),
        m(`scale.redis.depth.ours@rev.${deepest}`, 'per_s_from_ready'),
        AGAINST_REV,
        '/s',
      );
    pair('round trip p50', 'redis.latency.ours', 'p50_ms', 'ms');
    pair('round trip p99', 'redis.latency.ours', 'p99_ms', 'ms');
  }
  // enqueue
  ratioRow(
    'Redis enqueue (no worker)',
    'await one at a time',
    m('redis.enqueue.ours', 'await.per_s'),
    m('redis.enqueue.bullmq.add', 'per_s'),
    'BullMQ add',
    '/s',
    { min: 2, text: '≥ 2× add' },
  );
  ratioRow(
    'Redis enqueue (no worker)',
    '100 in flight (Promise.all windows)',
    m('redis.enqueue.ours', 'concurrent.per_s'),
    m('redis.enqueue.bullmq.addpar', 'per_s'),
    'BullMQ add ×100',
    '/s',
  );
  ratioRow(
    'Redis enqueue (no worker)',
    'bulk: ours = delayMany chunks of 1000',
    m('redis.enqueue.ours', 'batch.per_s'),
    m('redis.enqueue.bullmq.bulk', 'per_s'),
    'BullMQ addBulk 1000',
    '/s',
    { min: 2, text: '≥ 2× addBulk' },
  );
  if (results['redis.enqueue.celery.loop'])
    ratioRow(
      'Redis enqueue (no worker)',
      'await one at a time',
      m('redis.enqueue.ours', 'await.per_s'),
      m('redis.enqueue.celery.loop', 'enqueue_per_s'),
      'Celery apply_async loop',
      '/s',
    );
  // latency
  const p50 = m('redis.latency.ours', 'p50_ms');
  absRow('Round trip delay().get() (Redis, sequential)', 'p50, (await delay()).get()', p50, 'ms', {
    max: 0.5,
    text: '≤ 0.5 ms',
  });
  absRow(
    'Round trip delay().get() (Redis, sequential)',
    'p99, (await delay()).get()',
    m('redis.latency.ours', 'p99_ms'),
    'ms',
    {
      max: 2,
      text: '≤ 2 ms',
    },
  );
  ratioRow(
    'Round trip delay().get() (Redis, sequential)',
    'p50, (await delay()).get()',
    p50,
    m('redis.latency.bullmq.c1', 'p50_ms'),
    'BullMQ c1',
    'ms',
    { max: 1 / 3, text: '≤ 1/3 BullMQ' },
  );
  ratioRow(
    'Round trip delay().get() (Redis, sequential)',
    'p95',
    m('redis.latency.ours', 'p95_ms'),
    m('redis.latency.bullmq.c1', 'p95_ms'),
    'BullMQ c1',
    'ms',
  );
  ratioRow(
    'Round trip delay().get() (Redis, sequential)',
    'p99',
    m('redis.latency.ours', 'p99_ms'),
    m('redis.latency.bullmq.c1', 'p99_ms'),
    'BullMQ c1',
    'ms',
  );
  absRow(
    'Round trip delay().get() (Redis, sequential)',
    'p50, raw floor: ioredis only, SUBSCRIBE + LPUSH → BRPOP → SETEX+PUBLISH',
    m('redis.latency.raw', 'p50_ms'),
    'ms',
    undefined,
    `p99 ${fmt(m('redis.latency.raw', 'p99_ms'), 'ms')}; ours / floor p50 ${fmt(p50 / m('redis.latency.raw', 'p50_ms'))}×`,
  );
  const chainedP50 = m('redis.latency.ours.chained', 'p50_ms');
  if (results['redis.latency.ours.chained']) {
    const sec = 'Round trip delay().get() (Redis, sequential)';
    absRow(sec, 'p50, chained form delay(…).get()', chainedP50, 'ms', { max: 0.5, text: '≤ 0.5 ms' });
    absRow(sec, 'p99, chained form delay(…).get()', m('redis.latency.ours.chained', 'p99_ms'), 'ms', {
      max: 2,
      text: '≤ 2 ms',
    });
    ratioRow(sec, 'p50, chained form', chainedP50, m('redis.latency.bullmq.c1', 'p50_ms'), 'BullMQ c1', 'ms', {
      max: 1 / 3,
      text: '≤ 1/3 BullMQ',
    });
  }
  const parts: Record<string, string> = {
    publish: 'delay() → LPUSH acked',
    to_worker: 'LPUSH acked → worker has it (BLMOVE wake + reserve)',
    run_store: 'delivery → result stored (run + store script)',
    to_client: 'stored → get() resolves (PUBLISH / SUBSCRIBE+GET)',
  };
  for (const [k, label] of Object.entries(parts)) {
    absRow(
      'Round trip delay().get() (Redis, sequential)',
      `  where p50 goes: ${label}`,
      m('redis.latency.ours', `breakdown_ms.${k}.p50_ms`),
      'ms',
      undefined,
      `p99 ${fmt(m('redis.latency.ours', `breakdown_ms.${k}.p99_ms`), 'ms')}`,
    );
  }
  if (results['redis.latency.celery.prefork2'])
    ratioRow(
      'Round trip delay().get() (Redis, sequential)',
      'p50',
      p50,
      m('redis.latency.celery.prefork2', 'p50_ms'),
      'Celery prefork-2',
      'ms',
    );
  // memory
  ratioRow(
    'Worker RSS',
    'idle (1 s after start, empty queue)',
    m('redis.latency.ours', 'worker_rss_idle_mb'),
    m('redis.latency.bullmq.c1', 'worker_rss_idle_mb'),
    'BullMQ worker idle',
    'MB',
    { max: 1, text: '≤ BullMQ' },
  );
  ratioRow(
    'Worker RSS',
    `end of the ${N_DRAIN} drain`,
    m('redis.drain.ours', 'worker_rss_at_done_mb'),
    m('redis.drain.bullmq.c100', 'worker_rss_at_done_mb'),
    'BullMQ c100 at done',
    'MB',
    { max: 1, text: '≤ BullMQ' },
  );
  ratioRow(
    'Worker RSS',
    'peak during the drain',
    m('redis.drain.ours', 'worker_rss_peak_mb'),
    m('redis.drain.bullmq.c100', 'worker_rss_peak_mb'),
    'BullMQ c100 peak',
    'MB',
  );
  absRow(
    'Worker RSS',
    'floor: empty Nest microservice, idle',
    m('floor.nest.empty', 'worker_rss_idle_mb'),
    'MB',
    undefined,
    `ours idle − floor = ${fmt(m('redis.latency.ours', 'worker_rss_idle_mb') - m('floor.nest.empty', 'worker_rss_idle_mb'), 'MB')}; BullMQ idle − floor = ${fmt(m('redis.latency.bullmq.c1', 'worker_rss_idle_mb') - m('floor.nest.empty', 'worker_rss_idle_mb'), 'MB')}`,
  );
  // scale
  const two = m('scale.redis.drain.ours.2procs', 'per_s_from_ready');
  ratioRow('Scale (ours)', '2 worker processes, tasks/s', two, drain, 'ours, 1 process', '/s');
  for (const d of DEPTHS) {
    const id = `scale.redis.depth.ours.${d}`;
    if (!results[id]) continue;
    absRow(
      'Scale (ours)',
      `depth ${d.toLocaleString('en-US')}: tasks/s`,
      m(id, 'per_s_from_ready'),
      '/s',
      undefined,
      `RSS peak ${fmt(m(id, 'worker_rss_peak_mb'))} MB, at done ${fmt(m(id, 'worker_rss_at_done_mb'))} MB`,
    );
  }
  if (results['scale.redis.depth.ours.100000']) {
    const b = 'scale.redis.depth.bullmq.c100.100000';
    const o = 'scale.redis.depth.ours.100000';
    const firstLast = (id: string) => 100000 / m(id, 'first_to_done_s');
    ratioRow(
      'Redis drain at depth 100,000 (1 worker process)',
      'tasks/s first → last result',
      firstLast(o),
      firstLast(b),
      'BullMQ c100, depth 100k',
      '/s',
      { min: 2, text: '≥ 2× BullMQ' },
    );
    ratioRow(
      'Redis drain at depth 100,000 (1 worker process)',
      'tasks/s ready → done',
      m(o, 'per_s_from_ready'),
      m(b, 'per_s_from_ready'),
      'BullMQ c100, depth 100k',
      '/s',
      { min: 2, text: '≥ 2× BullMQ' },
    );
    ratioRow(
      'Redis drain at depth 100,000 (1 worker process)',
      'tasks/s first → last result',
      firstLast(o),
      m('redis.drain.celery.prefork2', 'per_s_from_ready'),
      'Celery prefork-2 (N drain)',
      '/s',
      { min: 25, text: '≥ 25× Celery' },
    );
    ratioRow(
      'Redis drain at depth 100,000 (1 worker process)',
      'worker RSS at done',
      m(o, 'worker_rss_at_done_mb'),
      m(b, 'worker_rss_at_done_mb'),
      'BullMQ c100 at done',
      'MB',
      { max: 1, text: '≤ BullMQ' },
    );
  }
  // RabbitMQ
  const adrain = m('amqp.drain.ours', 'per_s_from_ready');
  ratioRow(
    'RabbitMQ (ours: amqp broker, redis results)',
    'drain tasks/s',
    adrain,
    m('amqp.drain.celery.prefork2', 'per_s_from_ready'),
    'Celery prefork-2 AMQP',
    '/s',
    { min: 10, text: '≥ 10× Celery' },
  );
  ratioRow(
    'RabbitMQ (ours: amqp broker, redis results)',
    'drain tasks/s',
    adrain,
    m('amqp.raw.amqplib', 'consume.per_s'),
    `raw amqplib consume, prefetch ${PREFETCH}, no results`,
    '/s',
    { min: 0.5, text: '≥ 50% raw' },
  );
  if (results['amqp.depth.ours.100000']) {
    ratioRow(
      'RabbitMQ (ours: amqp broker, redis results)',
      'drain at depth 100,000 tasks/s',
      m('amqp.depth.ours.100000', 'per_s_from_ready'),
      m('amqp.depth.raw.amqplib.100000', 'consume.per_s'),
      `raw amqplib consume 100k, prefetch ${PREFETCH}`,
      '/s',
      { min: 0.5, text: '≥ 50% raw' },
    );
    ratioRow(
      'RabbitMQ (ours: amqp broker, redis results)',
      'drain at depth 100,000 tasks/s',
      m('amqp.depth.ours.100000', 'per_s_from_ready'),
      m('amqp.drain.celery.prefork2', 'per_s_from_ready'),
      'Celery prefork-2 AMQP (N drain)',
      '/s',
      { min: 10, text: '≥ 10× Celery' },
    );
  }
  ratioRow(
    'RabbitMQ (ours: amqp broker, redis results)',
    'enqueue await one at a time',
    m('amqp.enqueue.ours', 'await.per_s'),
    m('amqp.enqueue.celery.loop', 'enqueue_per_s'),
    'Celery apply_async loop (no confirms)',
    '/s',
  );
  ratioRow(
    'RabbitMQ (ours: amqp broker, redis results)',
    'enqueue 100 in flight',
    m('amqp.enqueue.ours', 'concurrent.per_s'),
    m('amqp.raw.amqplib', 'publish.per_s'),
    'raw amqplib confirm stream',
    '/s',
  );
  ratioRow(
    'RabbitMQ (ours: amqp broker, redis results)',
    'enqueue chunks of 1000',
    m('amqp.enqueue.ours', 'batch.per_s'),
    m('amqp.raw.amqplib', 'publish.per_s'),
    'raw amqplib confirm stream',
    '/s',
  );
  return rows;
}

function printTable(rows: Row[]): string {
  const lines: string[] = [];
  let section = '';
  const head = ['metric', 'ours', 'anchor', 'ours/anchor', 'target', 'result'];
  const table: string[][] = [];
  for (const r of rows) {
    if (!Number.isFinite(r.ours) && !Number.isFinite(r.anchor ?? NaN)) continue; // not measured in this run (--only)
    if (r.section !== section) {
      section = r.section;
      table.push([`## ${section}`, '', '', '', '', '']);
    }
    table.push([
      r.metric,
      fmt(r.ours, r.unit),
      r.anchorName ? `${fmt(r.anchor, r.unit)} (${r.anchorName})` : (r.note ?? ''),
      r.ratio !== undefined && Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : r.anchorName ? 'n/a' : '',
      r.target ?? '',
      r.pass === undefined ? '' : r.pass === null ? 'NO DATA' : r.pass ? 'PASS' : 'FAIL',
    ]);
  }
  const widths = head.map((h, i) =>
    Math.max(h.length, ...table.filter((t) => !t[0].startsWith('## ')).map((t) => t[i].length)),
  );
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  lines.push(line(head));
  lines.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const t of table) lines.push(t[0].startsWith('## ') ? t[0] : line(t));
  return lines.join('\n');
}

// ---------------------------------------------------------------- versions
function sh(cmd: string): string {
  try {
    return execFileSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 60_000 }).trim();
  } catch {
    return '';
  }
}
function versions(): Rec {
  const pkg = (name: string) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return null;
    }
  };
  return {
    node: process.version,
    bullmq: pkg('bullmq'),
    ioredis: pkg('ioredis'),
    amqplib: pkg('amqplib'),
    nestjs_core: pkg('@nestjs/core'),
    typescript: pkg('typescript'),
    redis_server: (redisCli('info', 'server').match(/redis_version:(\S+)/) ?? [])[1],
    rabbitmq: sh('rabbitmqctl -q version'),
    python_celery: sh(
      `${PY} -c "import sys,celery,kombu,redis,amqp; print(sys.version.split()[0], celery.__version__, kombu.__version__, redis.__version__, amqp.__version__)"`,
    ),
    git_commit: sh(`git -C ${ROOT} rev-parse --short HEAD`),
    library_built_from: libBuilt,
    git_dirty_lib: sh(`git -C ${ROOT} status --porcelain -- libs`).split('\n').filter(Boolean),
  };
}

function summarizeProfile(dir: string): Rec[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files = names.filter((f) => f.endsWith('.cpuprofile'));
  if (!files.length) return [];
  const prof = JSON.parse(readFileSync(join(dir, files[0]), 'utf8'));
  const total = prof.samples.length;
  const self = new Map<string, number>();
  for (const node of prof.nodes) {
    const cf = node.callFrame;
    const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([fn, hits]) => ({ fn, self_pct: round((100 * hits) / total, 1) }));
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const started = new Date();
  const la0 = loadavg();
  log(
    `load average at start: ${la0.join(' ')} (2 cores: above ~0.5 other work is running; see "foreign_cores" per run)`,
  );
  const b = build(LIB_REV);
  libBuilt = b.lib;
  log(`built ${b.files} files (library from the ${b.lib}) into bench/.build in ${b.ms} ms`);
  if (AGAINST_REV) {
    const a = build(AGAINST_REV, AGAINST_BUILD);
    log(`built ${a.files} files (library from ${a.lib}) into bench/.build-against in ${a.ms} ms`);
  }
  redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 3 });
  rabbitctl('add_vhost', VHOST);
  rabbitctl('set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*');
  log(
    `RabbitMQ vhost ${VHOST} created; Redis ${REDIS_URL}; worker concurrency ${CONC} × prefetch multiplier ${PFM} = prefetch ${PREFETCH}`,
  );
  const results: Record<string, Rec[]> = {};
  const scenarios = plan();
  try {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const s of scenarios) {
        const t0 = Date.now();
        const la = loadavg()[0];
        let r: Rec;
        try {
          r = await s.run();
        } catch (err) {
          r = { ok: false, error: String((err as Error)?.stack ?? err).slice(0, 2000) };
        }
        r.rep = rep;
        r.loadavg1_before = la;
        r.elapsed_s = round((Date.now() - t0) / 1000);
        (results[s.id] ??= []).push(r);
        const headline =
          r.per_s_from_ready ?? r.p50_ms ?? r.per_s ?? r.await?.per_s ?? r.enqueue_per_s ?? r.consume?.per_s;
        log(
          `[rep ${rep}] ${s.id}: ${r.ok === false ? `FAILED ${String(r.error).slice(0, 300)}` : `ok ${headline ?? ''}`} (${r.elapsed_s}s, load ${la})`,
        );
        await sleep(QUICK ? 100 : 300);
      }
    }
  } finally {
    try {
      rabbitctl('delete_vhost', VHOST);
      log(`RabbitMQ vhost ${VHOST} deleted`);
    } catch (err) {
      log(`could not delete vhost ${VHOST}: ${(err as Error).message}`);
    }
  }
  const rows = buildRows(results);
  const table = printTable(rows);
  const la1 = loadavg();
  const profile = PROFILE
    ? Object.fromEntries(['redis', 'amqp'].map((b) => [b, summarizeProfile(join(PROF_DIR, b))]))
    : undefined;
  const record = {
    date: started.toISOString(),
    finished: new Date().toISOString(),
    mode: QUICK ? 'quick' : DEEP ? 'deep' : 'full',
    reps: REPS,
    machine: {
      hostname: hostname(),
      nproc: cpus().length,
      cpu_model: cpus()[0]?.model,
      kernel: release(),
      mem_gb: round(totalmem() / 2 ** 30),
      os: sh('. /etc/os-release; echo $PRETTY_NAME'),
    },
    load: { at_start: la0, at_end: la1 },
    versions: versions(),
    settings: {
      redis: REDIS_URL,
      amqp_vhost: VHOST,
      ours_worker: {
        concurrency: CONC,
        prefetchMultiplier: PFM,
        prefetch: PREFETCH,
        process: 'node bench/.build/bench/worker.js (transpiled; logger error+warn)',
      },
      n_drain: N_DRAIN,
      n_enqueue: N_ENQ,
      m_latency: M_LAT,
      depths: DEPTHS,
    },
    rows,
    results,
    profile,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(record, null, 1));
  await redis.quit();
  const fails = Object.entries(results).flatMap(([id, rs]) =>
    rs.filter((r) => r.ok === false).map((r) => `${id}: ${String(r.error).slice(0, 200)}`),
  );
  console.log(
    `\nnpm run bench (${record.mode}, reps ${REPS}, medians) — ${record.date}, ${record.machine.nproc}× ${record.machine.cpu_model}; load ${la0.join(' ')} → ${la1.join(' ')}`,
  );
  console.log(
    `ours: worker concurrency ${CONC}, prefetchMultiplier ${PFM} (prefetch ${PREFETCH}); N drain ${N_DRAIN}, enqueue ${N_ENQ}, latency ${M_LAT}\n`,
  );
  console.log(table);
  for (const [b, top] of Object.entries(profile ?? {})) {
    if (top.length)
      console.log(
        `\nworker CPU profile (${b} drain, whole process life incl. startup), top self time:\n${top.map((p) => `  ${String(p.self_pct).padStart(5)}%  ${p.fn}`).join('\n')}`,
      );
  }
  if (fails.length) console.log(`\nFAILED runs:\n  ${fails.join('\n  ')}`);
  console.log(`\nJSON: ${file}`);
}

const onSignal = () => {
  for (const c of children) c.kill('SIGKILL'); // only the processes this driver started
  try {
    rabbitctl('delete_vhost', VHOST);
  } catch {
    /* not created */
  }
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('unhandledRejection', (err) => {
  console.error('unhandled rejection', err);
  onSignal();
});
process.on('SIGTERM', onSignal);

main().catch((err) => {
  console.error(err);
  for (const c of children) c.kill('SIGKILL');
  try {
    rabbitctl('delete_vhost', VHOST);
  } catch {
    /* not created */
  }
  process.exit(1);
});
