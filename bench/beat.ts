/**
 * `npm run bench:beat`: the periodic-task scheduler at scale. N entries are stored (default 10,000:
 * one `every: 1` entry, the rest daily crons spread over the day's 1,440 minutes), so about one
 * entry is due per second; one scheduler leads for `--seconds` (default 20) and we print the
 * process CPU per tick, Redis CPU per tick and the send lag (slot time to the atomic send, on the
 * store's clock). Run it again with `--entries 100`: the tick cost must not grow with N.
 *
 * Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379/12); every key under the prefix
 * `bbeat:<pid>:`, deleted at the end (never FLUSHDB).
 */
import Redis from 'ioredis';
import { createBroker } from 'nestjs-celery/internal/brokers/broker.factory';
import { createResultBackend } from 'nestjs-celery/internal/backends/result-backend.factory';
import { TaskRegistry } from 'nestjs-celery/internal/registry/task.registry';
import { TaskPublisher } from 'nestjs-celery/internal/publish/task.publisher';
import { resolveOptions } from 'nestjs-celery/internal/options/resolve-options';
import { resolveBeatOptions } from 'nestjs-celery/internal/beat/beat.config';
import { BeatService } from 'nestjs-celery/internal/beat/beat.service';
import { BeatEntry } from 'nestjs-celery/internal/options/beat-options';
import { Logger } from '@nestjs/common';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function redisCpuMs(r: Redis): Promise<number> {
  const info = await r.info('cpu');
  const sys = Number(/used_cpu_sys:([0-9.]+)/.exec(info)![1]);
  const user = Number(/used_cpu_user:([0-9.]+)/.exec(info)![1]);
  return (sys + user) * 1000;
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const entries = arg('entries', 10_000);
  const seconds = arg('seconds', 20);
  const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/12';
  const keyPrefix = `bbeat:${process.pid}:`;
  const config = resolveOptions({ brokerUrl: url, redis: { keyPrefix }, worker: { hostname: 'bench@beat' } });
  const broker = createBroker(config);
  const backend = createResultBackend(config);
  const registry = new TaskRegistry();
  const beat = new BeatService(
    config,
    resolveBeatOptions({}, config),
    registry,
    new TaskPublisher(broker, config, registry),
    backend,
  );
  const r = new Redis(url);
  try {
    const t0 = Date.now();
    const defs: [string, BeatEntry][] = [
      ['tick', { task: 'bench.tick', schedule: { every: 1 }, options: { queue: 'bbeat' } }],
    ];
    for (let i = 1; i < entries; i++)
      defs.push([
        `daily-${i}`,
        {
          task: 'bench.daily',
          args: [i],
          schedule: { cron: `${i % 60} ${Math.floor(i / 60) % 24} * * *` },
          options: { queue: 'bbeat' },
        },
      ]);
    for (let i = 0; i < defs.length; i += 500)
      await Promise.all(defs.slice(i, i + 500).map(([n, e]) => beat.add(n, e)));
    const loadMs = Date.now() - t0;

    const scheduler = await beat.startScheduler();
    // Let the first tick settle the entry that was due at once, then measure.
    await new Promise((res) => setTimeout(res, 1500));
    scheduler.stats.lagMaxMs = 0;
    const s0 = { ...scheduler.stats };
    const cpu0 = process.cpuUsage();
    const rcpu0 = await redisCpuMs(r);
    const w0 = Date.now();
    await new Promise((res) => setTimeout(res, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const rcpu = (await redisCpuMs(r)) - rcpu0;
    const wall = (Date.now() - w0) / 1000;
    const s = scheduler.stats;
    const ticks = s.ticks - s0.ticks;
    const sent = s.sent - s0.sent;
    const lagMean = sent ? (s.lagSumMs - s0.lagSumMs) / sent : 0;
    const procMs = (cpu.user + cpu.system) / 1000;
    await beat.stopScheduler();
    process.stdout.write(
      `| entries | load | ticks | sent | process CPU/tick | Redis CPU/tick | process CPU/s | send lag mean | send lag max |\n` +
        `|---|---|---|---|---|---|---|---|---|\n` +
        `| ${entries} | ${(loadMs / 1000).toFixed(1)} s | ${ticks} in ${wall.toFixed(0)} s | ${sent} | ${(procMs / ticks).toFixed(2)} ms | ${(rcpu / ticks).toFixed(2)} ms | ${(procMs / wall).toFixed(1)} ms | ${lagMean.toFixed(1)} ms | ${s.lagMaxMs} ms |\n`,
    );
  } finally {
    await beat.onApplicationShutdown();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
    await r.quit();
    await Promise.allSettled([broker.close(), backend.close()]);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
