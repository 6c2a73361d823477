/**
 * Our producer for the benchmark: a Nest application context with TaskQueueModule (no worker
 * strategy, so it never consumes) and TaskClient. Started by bench/run.ts, configured by BENCH_CFG;
 * prints one JSON line.
 *
 *   client enqueue --n N --variants await,concurrent,batch [--window 100] [--chunk 1000]
 *   client prefill --n N [--chunk 1000]
 *   client latency --m M [--warmup 50] [--form awaited|chained]   (a worker must be consuming the queue)
 *
 * Variants. `await`: `await client.delay(add, i, i)` one at a time. `concurrent`: windows of
 * --window delays in flight (Promise.all), as BullMQ's `addpar`. `batch`: `client.delayMany` over
 * chunks of --chunk calls (on Redis one MULTI of multi-value LPUSHes per chunk), compared with
 * BullMQ's addBulk of the same chunk size. A publish counts when the broker acknowledged it (LPUSH
 * reply; AMQP confirm).
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskClient, TaskQueueModule, defineTask } from 'nestjs-celery';
import { moduleOptions, readConfig } from './config';
import { cpuSeconds, latencyStats, rate, serverPids } from './lib/proc';

const cfg = readConfig();
const argv = process.argv.slice(2);
const MODE = argv[0];
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const add = defineTask<(x: number, y: number) => number>('tasks.add');

@Module({ imports: [TaskQueueModule.forRoot(moduleOptions(cfg, false))] })
class BenchClientModule {}

function meter() {
  const sp = serverPids();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const r0 = cpuSeconds(sp.redis);
  const q0 = cpuSeconds(sp.rabbitmq);
  return () => {
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return {
      wall_s: +wall.toFixed(3),
      client_cpu_s: +((c.user + c.system) / 1e6).toFixed(3),
      redis_cpu_s: +(cpuSeconds(sp.redis) - r0).toFixed(3),
      rabbitmq_cpu_s: +(cpuSeconds(sp.rabbitmq) - q0).toFixed(3),
    };
  };
}

async function enqueue(client: TaskClient, variant: string, n: number, start: number): Promise<void> {
  const window = Number(opt('window', '100'));
  const chunk = Number(opt('chunk', '1000'));
  if (variant === 'await') {
    for (let i = start; i < start + n; i++) await client.delay(add, i, i);
  } else if (variant === 'concurrent') {
    for (let i = start; i < start + n; i += window) {
      const ps: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(start + n, i + window); j++) ps.push(client.delay(add, j, j));
      await Promise.all(ps);
    }
  } else if (variant === 'batch') {
    for (let i = start; i < start + n; i += chunk) {
      const calls: [number, number][] = [];
      for (let j = i; j < Math.min(start + n, i + chunk); j++) calls.push([j, j]);
      await client.delayMany(add, calls);
    }
  } else throw new Error(`unknown variant ${variant}`);
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { bench: 'ours.client', mode: MODE, broker: cfg.brokerUrl.split(':')[0] };
  const app = await NestFactory.createApplicationContext(BenchClientModule, { logger: ['error', 'warn'] });
  const client = app.get(TaskClient);
  try {
    if (MODE === 'enqueue') {
      const n = Number(opt('n', '10000'));
      await client.delay(add, 0, 0); // connect, declare the queue
      let start = 1;
      for (const v of opt('variants', 'await,concurrent,batch').split(',')) {
        const stop = meter();
        await enqueue(client, v, n, start);
        out[v] = { n, ...stop() };
        (out[v] as Record<string, number>).per_s = rate(n, (out[v] as Record<string, number>).wall_s);
        start += n;
      }
      out.published = start; // incl. the warm-up task
    } else if (MODE === 'prefill') {
      const n = Number(opt('n', '10000'));
      const stop = meter();
      await enqueue(client, 'batch', n, 0);
      const u = stop();
      Object.assign(out, { n, per_s: rate(n, u.wall_s), ...u });
    } else if (MODE === 'latency') {
      const m = Number(opt('m', '1000'));
      const warm = Number(opt('warmup', '50'));
      // awaited: (await delay()).get(), subscribing once the send is confirmed. chained: delay().get(),
      // subscribing while the message is sent (then the trace has no "publish acked" time).
      const chained = opt('form', 'awaited') === 'chained';
      const abs = () => performance.timeOrigin + performance.now();
      const once = async (i: number): Promise<{ id: string; v: number; acked: number }> => {
        const sent = client.delay(add, i, i);
        if (chained) return { id: sent.id, v: await sent.get({ timeout: 30_000 }), acked: NaN };
        const r = await sent;
        const acked = cfg.trace ? abs() : NaN;
        return { id: r.id, v: await r.get({ timeout: 30_000 }), acked };
      };
      for (let i = 0; i < warm; i++) await once(i);
      const lat: number[] = [];
      const trace: Array<[string, number, number, number]> = []; // id, sent, publish acked, result in hand (absolute ms)
      for (let i = 0; i < m; i++) {
        const t0 = process.hrtime.bigint();
        const a0 = cfg.trace ? abs() : 0;
        const { id, v, acked } = await once(i);
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (cfg.trace) trace.push([id, a0, acked, abs()]);
        if (v !== 2 * i) throw new Error(`bad result ${v} for ${i}`);
      }
      Object.assign(out, latencyStats(lat), { warmup: warm });
      if (cfg.trace) out.trace = trace;
    } else throw new Error(`unknown mode ${MODE}`);
    out.ok = true;
  } catch (err) {
    out.ok = false;
    out.error = String((err as Error)?.stack ?? err).slice(0, 2000);
  } finally {
    await app.close();
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

void main();
