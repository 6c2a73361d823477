#!/usr/bin/env node
'use strict';
// The floor under any Redis task queue's round trip on this machine, for `npm run bench`: no queue
// library, only ioredis and the hops a Celery-shaped round trip needs (written for this bench).
//
//   node raw_redis_rtt.js --m 1000 [--warmup 50]
//
// client : SUBSCRIBE to the result channel, LPUSH the message, wait for the published result.
// worker : (a child process) BRPOP the list, SETEX the result key and PUBLISH it, in one pipeline.
// So: four crossings of Redis by three processes, as in ours and BullMQ's, with no envelope, no
// unacked bookkeeping and no library code. One JSON line on stdout: p50/p95/p99 in ms.
const { fork } = require('child_process');
const Redis = require('ioredis');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const conn = () =>
  new Redis({
    host: '127.0.0.1',
    port: Number(process.env.BENCH_REDIS_PORT || 6379),
    db: Number(process.env.BENCH_REDIS_DB || 12),
  });
// The worker is given the client's tag, so both use the same list and channels.
const tag = args[0] === 'worker' ? args[1] : `rawrtt_${process.pid}`;
const LIST = `${tag}:q`;

if (args[0] === 'worker') {
  const block = conn();
  const cmd = conn();
  process.on('disconnect', () => process.exit(0));
  (async () => {
    process.send('ready');
    for (;;) {
      const got = await block.brpop(LIST, 1);
      if (got) cmd.pipeline().setex(`${tag}:r:${got[1]}`, 60, got[1]).publish(`${tag}:r:${got[1]}`, got[1]).exec();
    }
  })();
} else {
  const M = Number(opt('m', 1000));
  const WARM = Number(opt('warmup', 50));
  const worker = fork(__filename, ['worker', tag], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  worker.once('message', async () => {
    const cmd = conn();
    const sub = conn();
    let arrived = null;
    sub.on('message', (_channel, payload) => arrived?.(payload));
    const lat = [];
    for (let i = 0; i < WARM + M; i++) {
      const t0 = process.hrtime.bigint();
      const channel = `${tag}:r:${i}`;
      const result = new Promise((resolve) => (arrived = resolve));
      await sub.subscribe(channel);
      await cmd.lpush(LIST, String(i));
      await result;
      void sub.unsubscribe(channel);
      if (i >= WARM) lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    lat.sort((a, b) => a - b);
    const q = (p) => +lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(3);
    const keys = await cmd.keys(`${tag}:*`);
    if (keys.length) await cmd.del(...keys);
    console.log(
      JSON.stringify({ bench: 'raw.redis.rtt', m: M, p50_ms: q(0.5), p95_ms: q(0.95), p99_ms: q(0.99), ok: true }),
    );
    worker.disconnect();
    cmd.disconnect();
    sub.disconnect();
  });
}
