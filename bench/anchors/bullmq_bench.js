#!/usr/bin/env node
'use strict';
// Adapted from the team's anchor scripts (bullmq_bench.js). Changes for `npm run bench`:
// Redis DB from BENCH_REDIS_DB (default 12) instead of 14; key prefix "bbench"; the latency mode
// also reports the worker's idle RSS (1 s after ready, before the first job). bullmq comes from the
// root package (devDependency bullmq@6.7.0). Method and measurements otherwise unchanged.
// BullMQ anchor benchmark (bullmq from npm, ioredis, Redis DB 14, key prefix "anc").
// One run = one measurement, one JSON line on stdout at the end.
//
//   node bullmq_bench.js enqueue   --n 20000 --variant add|bulk|addpar [--chunk 1000] [--window 100]
//   node bullmq_bench.js process   --n 20000 --concurrency 1|10|100 --remove 1|0 [--procs 1]
//   node bullmq_bench.js e2e       --n 20000 --concurrency 100 --remove 0 [--variant add|bulk]
//   node bullmq_bench.js latency   --m 1000  --concurrency 1 --remove 0
//
// enqueue : no worker. add = `await queue.add()` one at a time; addpar = --window adds in
//           flight (Promise.all windows); bulk = `queue.addBulk()` in chunks of --chunk.
// process : queue pre-filled with addBulk, then --procs worker process(es) are spawned;
//           time spawn->done and ready->done (done = N-th 'completed' event in the workers).
// e2e     : worker process ready; this process adds N jobs; time first add -> N-th completion.
// latency : worker process ready; M x (queue.add, job.waitUntilFinished(queueEvents)).
// --remove 1 = removeOnComplete:true (results off); 0 = keep (default BullMQ: result kept
//           in the job hash + completed zset, like a result backend).
// The processor is `async (job) => job.data.x + job.data.y`.
const { fork } = require('child_process');
const { Queue, Worker, QueueEvents } = require('bullmq');
const ps = require('./lib/procstat');

const argv = process.argv.slice(2);
const MODE = argv[0];
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const N = Number(opt('n', 20000));
const M = Number(opt('m', 1000));
const CONC = Number(opt('concurrency', 1));
const REMOVE = opt('remove', '0') === '1';
const PROCS = Number(opt('procs', 1));
const VARIANT = opt('variant', MODE === 'e2e' ? 'add' : 'bulk');
const CHUNK = Number(opt('chunk', 1000));
const WINDOW = Number(opt('window', 100));
const QNAME = opt('queue', `bmq_${process.pid}_${Math.random().toString(36).slice(2, 8)}`);
const PREFIX = 'bbench';
const connection = {
  host: '127.0.0.1',
  port: Number(process.env.BENCH_REDIS_PORT || 6379),
  db: Number(process.env.BENCH_REDIS_DB || 12),
  maxRetriesPerRequest: null,
};
const now = () => performance.timeOrigin + performance.now(); // ms, comparable across processes
const jobOpts = () => ({ removeOnComplete: REMOVE, removeOnFail: false });

// ------------------------------------------------------------------ worker child process
async function workerChild() {
  let count = 0;
  let tFirst = null;
  let tLast = null;
  let scheduled = false;
  const report = () => {
    scheduled = false;
    process.send({ type: 'progress', count, tFirst, tLast, rss: process.memoryUsage().rss });
  };
  const worker = new Worker(QNAME, async (job) => job.data.x + job.data.y, {
    connection,
    prefix: PREFIX,
    concurrency: CONC,
    autorun: false,
  });
  worker.on('completed', () => {
    count++;
    tLast = now();
    if (tFirst === null) tFirst = tLast;
    if (!scheduled) {
      scheduled = true;
      setTimeout(report, 2);
    }
  });
  worker.on('failed', (job, err) => process.send({ type: 'failed', err: String(err) }));
  worker.on('error', (err) => process.send({ type: 'error', err: String(err) }));
  process.on('message', async (m) => {
    if (m === 'stop') {
      const cpu = process.cpuUsage();
      await worker.close();
      process.send({ type: 'stopped', cpu_s: (cpu.user + cpu.system) / 1e6 });
      process.exit(0);
    }
  });
  await worker.waitUntilReady();
  process.send({ type: 'ready', t: now() });
  worker.run().catch((e) => process.send({ type: 'error', err: String(e) }));
}

// ------------------------------------------------------------------ helpers (parent)
function spawnWorkers(n) {
  const kids = [];
  for (let i = 0; i < n; i++) {
    const tSpawn = now();
    const child = fork(__filename, [
      'worker',
      '--queue',
      QNAME,
      '--concurrency',
      String(CONC),
      '--remove',
      REMOVE ? '1' : '0',
    ]);
    const k = { child, tSpawn, tReady: null, count: 0, tFirst: null, tLast: null, rssPeakKb: 0, errors: [] };
    k.readyP = new Promise((res, rej) => {
      child.on('message', (m) => {
        if (m.type === 'ready') {
          k.tReady = m.t;
          res();
        } else if (m.type === 'progress') {
          k.count = m.count;
          k.tFirst = m.tFirst;
          k.tLast = m.tLast;
          kidsEmitter();
        } else if (m.type === 'failed' || m.type === 'error') k.errors.push(m.err);
        else if (m.type === 'stopped') k.cpuSelf = m.cpu_s;
      });
      child.on('exit', (code) => {
        k.exited = code;
        rej(new Error(`worker exited ${code}`));
        kidsEmitter();
      });
    });
    kids.push(k);
  }
  return kids;
}
let progressWaiter = null;
function kidsEmitter() {
  if (progressWaiter) progressWaiter();
}
function waitDone(kids, n, timeoutMs) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () =>
        reject(
          new Error(
            `timeout: ${kids.reduce((a, k) => a + k.count, 0)}/${n} done; errors ${kids.flatMap((k) => k.errors).slice(0, 3)}`,
          ),
        ),
      timeoutMs,
    );
    progressWaiter = () => {
      const total = kids.reduce((a, k) => a + k.count, 0);
      if (kids.some((k) => k.exited !== undefined)) {
        clearTimeout(t);
        reject(new Error('worker exited early'));
      }
      if (total >= n) {
        clearTimeout(t);
        progressWaiter = null;
        resolve(Math.max(...kids.map((k) => k.tLast)));
      }
    };
    progressWaiter();
  });
}
function startRssSampler(kids) {
  const iv = setInterval(() => {
    for (const k of kids) k.rssPeakKb = Math.max(k.rssPeakKb, ps.rssKb(k.child.pid));
  }, 200);
  return () => clearInterval(iv);
}
async function stopWorkers(kids) {
  await Promise.all(
    kids.map(
      (k) =>
        new Promise((res) => {
          if (k.exited !== undefined) return res();
          const t = setTimeout(() => {
            k.child.kill('SIGKILL');
            res();
          }, 15000); // own child, by handle
          k.child.once('exit', () => {
            clearTimeout(t);
            res();
          });
          k.child.send('stop');
        }),
    ),
  );
}
async function cleanup(queue) {
  try {
    await queue.obliterate({ force: true });
  } catch (e) {
    /* fall through to scan */
  }
  const client = new (require('ioredis'))(connection);
  let cursor = '0';
  let deleted = 0;
  try {
    do {
      const [c, keys] = await client.scan(cursor, 'MATCH', `${PREFIX}:${QNAME}:*`, 'COUNT', 1000);
      cursor = c;
      if (keys.length) deleted += await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}
async function enqueue(queue, variant, n, start = 0) {
  const mk = (i) => ({ name: 'add', data: { x: i, y: i }, opts: jobOpts() });
  if (variant === 'add') {
    for (let i = start; i < start + n; i++) await queue.add('add', { x: i, y: i }, jobOpts());
  } else if (variant === 'addpar') {
    for (let i = start; i < start + n; i += WINDOW) {
      const ps_ = [];
      for (let j = i; j < Math.min(start + n, i + WINDOW); j++) ps_.push(queue.add('add', { x: j, y: j }, jobOpts()));
      await Promise.all(ps_);
    }
  } else if (variant === 'bulk') {
    for (let i = start; i < start + n; i += CHUNK) {
      const jobs = [];
      for (let j = i; j < Math.min(start + n, i + CHUNK); j++) jobs.push(mk(j));
      await queue.addBulk(jobs);
    }
  } else throw new Error(`unknown variant ${variant}`);
}

// ------------------------------------------------------------------ modes
async function modeEnqueue(out, queue) {
  await queue.add('warmup', { x: 0, y: 0 }); // load Lua scripts, open connection
  await queue.drain(true);
  const m = new ps.CpuMeter().start();
  await enqueue(queue, VARIANT, N);
  const u = m.stop();
  Object.assign(out, {
    variant: VARIANT,
    per_s: ps.rate(N, u.wall_s),
    wall_s: u.wall_s,
    node_cpu_s: u.self_cpu_s,
    redis_cpu_s: u.redis_cpu_s,
    node_rss_mb: +(process.memoryUsage().rss / 1048576).toFixed(1),
  });
  out.waiting = await queue.getWaitingCount();
}

async function modeProcess(out, queue) {
  const m0 = new ps.CpuMeter().start();
  await enqueue(queue, 'bulk', N);
  const u0 = m0.stop();
  out.prefill_bulk_per_s = ps.rate(N, u0.wall_s);
  if ((await queue.getWaitingCount()) !== N) throw new Error('prefill count mismatch');
  await new Promise((r) => setTimeout(r, 1000));
  out.noise = ps.noiseSnapshot();
  const sys0 = ps.systemBusySeconds();
  const m = new ps.CpuMeter().start();
  const kids = spawnWorkers(PROCS);
  const stopRss = startRssSampler(kids);
  try {
    await Promise.all(kids.map((k) => k.readyP));
    const tDone = await waitDone(kids, N, 300000);
    const u = m.stop();
    const tSpawn = Math.min(...kids.map((k) => k.tSpawn));
    const tReady = Math.max(...kids.map((k) => k.tReady));
    const tFirst = Math.min(...kids.map((k) => k.tFirst));
    const workerCpu = kids.reduce((a, k) => a + ps.cpuSeconds(k.child.pid), 0);
    const rssNow = kids.reduce((a, k) => a + ps.rssKb(k.child.pid), 0);
    stopRss();
    Object.assign(out, {
      startup_s: +((tReady - tSpawn) / 1000).toFixed(3),
      spawn_to_done_s: +((tDone - tSpawn) / 1000).toFixed(3),
      ready_to_done_s: +((tDone - tReady) / 1000).toFixed(3),
      first_to_done_s: +((tDone - tFirst) / 1000).toFixed(3),
      per_s_from_spawn: ps.rate(N, (tDone - tSpawn) / 1000),
      per_s_from_ready: ps.rate(N, (tDone - tReady) / 1000),
      worker_cpu_s: +workerCpu.toFixed(3),
      redis_cpu_s: u.redis_cpu_s,
      system_busy_cpu_s: +(ps.systemBusySeconds() - sys0).toFixed(3),
      worker_rss_peak_mb: +(kids.reduce((a, k) => a + k.rssPeakKb, 0) / 1024).toFixed(1),
      worker_rss_at_done_mb: +(rssNow / 1024).toFixed(1),
      failed_events: kids.reduce((a, k) => a + k.errors.length, 0),
    });
    const counts = await queue.getJobCounts('completed', 'waiting', 'active', 'failed');
    out.counts_after = counts;
    out.results_ok = REMOVE ? counts.completed === 0 && counts.waiting === 0 : counts.completed === N;
  } finally {
    stopRss();
    await stopWorkers(kids);
  }
}

async function modeE2e(out, queue) {
  const kids = spawnWorkers(PROCS);
  const stopRss = startRssSampler(kids);
  try {
    await Promise.all(kids.map((k) => k.readyP));
    await queue.add('add', { x: 0, y: 0 }, jobOpts()); // warm-up job (counted)
    await waitDone(kids, 1, 30000);
    await new Promise((r) => setTimeout(r, 1000));
    out.noise = ps.noiseSnapshot();
    const sys0 = ps.systemBusySeconds();
    const m = new ps.CpuMeter(Object.fromEntries(kids.map((k, i) => [`w${i}`, k.child.pid]))).start();
    const t0 = now();
    await enqueue(queue, VARIANT, N, 1);
    const tEnq = now();
    const tDone = await waitDone(kids, N + 1, 300000);
    const u = m.stop();
    Object.assign(out, {
      variant: VARIANT,
      enqueue_per_s: ps.rate(N, (tEnq - t0) / 1000),
      enq_start_to_done_s: +((tDone - t0) / 1000).toFixed(3),
      per_s_e2e: ps.rate(N, (tDone - t0) / 1000),
      drain_after_enqueue_s: +(Math.max(0, tDone - tEnq) / 1000).toFixed(3),
      client_cpu_s: u.self_cpu_s,
      worker_cpu_s: +kids.reduce((a, k, i) => a + u[`w${i}_cpu_s`], 0).toFixed(3),
      redis_cpu_s: u.redis_cpu_s,
      system_busy_cpu_s: +(ps.systemBusySeconds() - sys0).toFixed(3),
      worker_rss_peak_mb: +(kids.reduce((a, k) => a + k.rssPeakKb, 0) / 1024).toFixed(1),
    });
    const counts = await queue.getJobCounts('completed', 'waiting', 'active', 'failed');
    out.counts_after = counts;
  } finally {
    stopRss();
    await stopWorkers(kids);
  }
}

async function modeLatency(out, queue) {
  const kids = spawnWorkers(1);
  const stopRss = startRssSampler(kids);
  const qe = new QueueEvents(QNAME, { connection, prefix: PREFIX });
  try {
    await Promise.all([kids[0].readyP, qe.waitUntilReady()]);
    await new Promise((r) => setTimeout(r, 1000));
    out.worker_rss_idle_mb = +(ps.rssKb(kids[0].child.pid) / 1024).toFixed(1);
    for (let i = 0; i < 50; i++) {
      // warm-up
      const job = await queue.add('add', { x: i, y: i }, jobOpts());
      await job.waitUntilFinished(qe, 30000);
    }
    out.noise = ps.noiseSnapshot();
    const lat = [];
    for (let i = 0; i < M; i++) {
      const t0 = process.hrtime.bigint();
      const job = await queue.add('add', { x: i, y: i }, jobOpts());
      const v = await job.waitUntilFinished(qe, 30000);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (v !== 2 * i) throw new Error(`bad result ${v}`);
    }
    Object.assign(out, ps.latencyStats(lat), { worker_rss_peak_mb: +(kids[0].rssPeakKb / 1024).toFixed(1) });
  } finally {
    stopRss();
    await qe.close();
    await stopWorkers(kids);
  }
}

async function main() {
  const out = {
    bench: 'bullmq',
    mode: MODE,
    n: MODE === 'latency' ? M : N,
    bullmq: require('bullmq/package.json').version,
  };
  if (MODE !== 'enqueue') Object.assign(out, { concurrency: CONC, procs: PROCS, remove_on_complete: REMOVE });
  if (MODE === 'latency') out.procs = 1;
  const queue = new Queue(QNAME, { connection, prefix: PREFIX });
  try {
    await queue.waitUntilReady();
    const fn = { enqueue: modeEnqueue, process: modeProcess, e2e: modeE2e, latency: modeLatency }[MODE];
    if (!fn) throw new Error(`unknown mode ${MODE}`);
    await fn(out, queue);
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String((e && e.stack) || e).slice(0, 2000);
  } finally {
    out.cleanup_deleted = await cleanup(queue).catch((e) => `cleanup failed: ${e}`);
    await queue.close();
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

if (MODE === 'worker') workerChild();
else main();
