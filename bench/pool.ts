/**
 * `npm run bench:pool [-- --quick]`: what the pool for CPU-bound tasks costs and gives.
 *
 * 1. Round trip of a no-op call through a pool, no broker: our TaskPool (threads, processes) vs a
 *    raw piscina call and tinypool (threads, child_process). Target: ours within 2x of the raw call.
 * 2. A no-op task end to end (Redis broker and results): on the event loop vs our pool (threads,
 *    processes) vs BullMQ's sandboxed processor (child process, useWorkerThreads).
 * 3. A 50 ms CPU task end to end with a pool of 1 vs 2. Target: >= 1.8x from 1 to 2. Anchors: BullMQ
 *    sandboxes with concurrency 2, and Celery 5.2.6 prefork -c 1 / -c 2 running the same loop in Python.
 * 4. RSS per pool worker of each kind (processes: the child's own RSS; threads: the process's growth
 *    divided by the number of threads).
 *
 * Each measurement runs in a fresh process on plain JS (bench/.build, as `npm run bench` does: a
 * ts-node process carries the TypeScript compiler in its RSS). Redis: BENCH_POOL_REDIS (default
 * redis://127.0.0.1:6379/12). Figures from a shared, noisy machine are indicative only.
 * Writes bench/results/pool-<timestamp>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';
import { BUILD, ROOT, build } from './build';

const QUICK = process.argv.includes('--quick');
const M = QUICK ? 300 : 2000;
const N_NOOP = QUICK ? 300 : 2000;
const N_BURN = QUICK ? 20 : 60;

/** The pool bench's own files, transpiled beside the library as build() does for bench/worker.ts. */
function buildPoolBench(): void {
  const cfg = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => readFileSync(p, 'utf8'));
  const options = {
    ...ts.parseJsonConfigFileContent(cfg.config, ts.sys, ROOT).options,
    sourceMap: false,
    inlineSourceMap: false,
    declaration: false,
    noEmit: false,
    outDir: undefined,
  };
  for (const f of ['bench-pool.module.ts', 'pool-runner.ts']) {
    const src = join(__dirname, 'pool', f);
    const dest = join(BUILD, relative(ROOT, src)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(
      dest,
      ts.transpileModule(readFileSync(src, 'utf8'), { compilerOptions: options, fileName: src }).outputText,
    );
  }
}

function run(scenario: object): Record<string, unknown> {
  const out = execFileSync(
    'node',
    ['-r', join(BUILD, 'paths.js'), join(BUILD, 'bench', 'pool', 'pool-runner.js'), JSON.stringify(scenario)],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 },
  );
  const line = out.trim().split('\n').pop()!;
  const r = JSON.parse(line) as Record<string, unknown>;
  console.log(line);
  return r;
}

/** Celery 5.2.6 prefork -c <c> running the same 50 ms loop in Python (bench/pool/celery_burn.py). */
function runCelery(c: number): Record<string, unknown> {
  const broker = process.env.BENCH_POOL_REDIS ?? 'redis://127.0.0.1:6379/12';
  const out = execFileSync(
    '/usr/bin/python3',
    [
      join(__dirname, 'pool', 'celery_burn.py'),
      '--broker',
      broker,
      '--c',
      String(c),
      '--n',
      String(N_BURN),
      '--ms',
      '50',
    ],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 },
  );
  const line = out.trim().split('\n').pop()!;
  console.log(line);
  return JSON.parse(line) as Record<string, unknown>;
}

const results: Record<string, Record<string, unknown>> = {};
build();
buildPoolBench();

console.log(`\n# 1. no-op round trip through a pool (sequential, ${M} calls after 50 warm-up)`);
for (const impl of ['ours-threads', 'ours-processes', 'piscina', 'tinypool-threads', 'tinypool-processes'])
  results[`raw.${impl}`] = run({ mode: 'raw', impl, m: M });

console.log(`\n# 2. no-op task end to end on Redis (${N_NOOP} tasks, sent at once, pool/concurrency 2)`);
for (const exec of ['loop', 'threads', 'processes'])
  results[`e2e.noop.${exec}`] = run({ mode: 'e2e', exec, n: N_NOOP, ms: 0, poolSize: 2 });
for (const threads of [false, true])
  results[`bullmq.noop.${threads ? 'threads' : 'processes'}`] = run({
    mode: 'bullmq',
    threads,
    n: N_NOOP,
    ms: 0,
    concurrency: 2,
  });

console.log(`\n# 3. 50 ms CPU task end to end (${N_BURN} tasks), pool of 1 vs 2`);
for (const exec of ['threads', 'processes'])
  for (const poolSize of [1, 2])
    results[`e2e.burn50.${exec}.${poolSize}`] = run({ mode: 'e2e', exec, n: N_BURN, ms: 50, poolSize });
for (const threads of [false, true])
  results[`bullmq.burn50.${threads ? 'threads' : 'processes'}.2`] = run({
    mode: 'bullmq',
    threads,
    n: N_BURN,
    ms: 50,
    concurrency: 2,
  });
for (const c of [1, 2]) results[`celery.burn50.${c}`] = runCelery(c);

const num = (k: string, f: string) => Number(results[k]?.[f]);
const rows: string[] = [];
const ratio = (a: number, b: number) => (a / b).toFixed(2);
for (const kind of ['threads', 'processes']) {
  const ours = num(`raw.ours-${kind}`, 'p50us');
  const anchor =
    kind === 'threads'
      ? Math.min(num('raw.piscina', 'p50us'), num('raw.tinypool-threads', 'p50us'))
      : num('raw.tinypool-processes', 'p50us');
  const r = ours / anchor;
  rows.push(
    `round trip ${kind}: ours p50 ${ours} µs vs raw ${anchor} µs = ${r.toFixed(2)}x  ${r <= 2 ? 'PASS' : 'FAIL'} (target <= 2x)`,
  );
  const s = num(`e2e.burn50.${kind}.1`, 'seconds') / num(`e2e.burn50.${kind}.2`, 'seconds');
  rows.push(`scaling ${kind} 1->2: ${s.toFixed(2)}x  ${s >= 1.8 ? 'PASS' : 'FAIL'} (target >= 1.8x)`);
  rows.push(
    `RSS per pool worker (${kind}): ours ${num(`raw.ours-${kind}`, 'rssPerWorkerKiB')} KiB (app module booted), ${kind === 'threads' ? `piscina ${num('raw.piscina', 'rssPerWorkerKiB')} KiB, ` : ''}tinypool ${num(`raw.tinypool-${kind}`, 'rssPerWorkerKiB')} KiB, BullMQ sandbox ${num(`bullmq.noop.${kind}`, 'rssPerWorkerKiB')} KiB`,
  );
}
rows.push(
  `no-op end to end, ms per task: loop ${num('e2e.noop.loop', 'msPerTask').toFixed(3)}, threads ${num('e2e.noop.threads', 'msPerTask').toFixed(3)}, processes ${num('e2e.noop.processes', 'msPerTask').toFixed(3)}, BullMQ child ${num('bullmq.noop.processes', 'msPerTask').toFixed(3)}, BullMQ threads ${num('bullmq.noop.threads', 'msPerTask').toFixed(3)}`,
);
rows.push(
  `50 ms CPU end to end, pool 2, s: ours threads ${num('e2e.burn50.threads.2', 'seconds').toFixed(2)}, processes ${num('e2e.burn50.processes.2', 'seconds').toFixed(2)}, BullMQ child ${num('bullmq.burn50.processes.2', 'seconds').toFixed(2)}, threads ${num('bullmq.burn50.threads.2', 'seconds').toFixed(2)} (ideal ${((N_BURN * 0.05) / 2).toFixed(2)})`,
);
rows.push(
  `Celery prefork, same 50 ms loop in Python: -c 1 ${num('celery.burn50.1', 'seconds').toFixed(2)} s, -c 2 ${num('celery.burn50.2', 'seconds').toFixed(2)} s (${ratio(num('celery.burn50.1', 'seconds'), num('celery.burn50.2', 'seconds'))}x)`,
);
rows.push(
  `ratios: threads/loop ${ratio(num('e2e.noop.threads', 'msPerTask'), num('e2e.noop.loop', 'msPerTask'))}x, processes/BullMQ child ${ratio(num('e2e.noop.processes', 'msPerTask'), num('bullmq.noop.processes', 'msPerTask'))}x`,
);
console.log(`\n# summary (indicative: shared, noisy machine)\n${rows.join('\n')}`);
const file = join(ROOT, 'bench', 'results', `pool-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ quick: QUICK, at: new Date().toISOString(), results, summary: rows }, null, 2));
console.log(`\nwritten: ${relative(ROOT, file)}`);
