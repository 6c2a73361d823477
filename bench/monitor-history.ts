/**
 * `npx ts-node -r tsconfig-paths/register --transpile-only bench/monitor-history.ts [--url redis://127.0.0.1:6379/12] [--tasks 100000]`
 *
 * Memory of the dashboard's task history: feeds a TaskMonitor (the dashboard's core: history store,
 * worker tracker, metrics) the three events of each task (task-received, task-started,
 * task-succeeded with short args and result, as `tasks.add(i, i)` gives), in this process, without
 * the network receive. Prints Redis `used_memory` and this process's RSS (after GC) at start, after
 * `--tasks` tasks, and after twice as many (the bound is `--tasks`, so the last figure shows that
 * memory stays flat). Uses and then deletes keys under a prefix of its own; never FLUSHDB.
 */
import Redis from 'ioredis';
import { TaskControl } from 'nestjs-celery';
import { createBroker } from 'nestjs-celery/internal/brokers/broker.factory';
import { createResultBackend } from 'nestjs-celery/internal/backends/result-backend.factory';
import { resolveOptions } from 'nestjs-celery/internal/options/resolve-options';
import { TaskMonitor } from 'nestjs-celery/internal/monitor/task-monitor.service';
import { resolveMonitorOptions } from 'nestjs-celery/internal/monitor/monitor.options';
import type { CeleryEvent } from 'nestjs-celery/internal/monitor/celery-event';

const argv = process.argv.slice(2);
const opt = (f: string, def: string) => (argv.indexOf(`--${f}`) >= 0 ? argv[argv.indexOf(`--${f}`) + 1] : def);
const URL = opt('url', 'redis://127.0.0.1:6379/12');
const N = Number(opt('tasks', '100000'));
const PREFIX = `bench-monitor-${process.pid}:`;

async function main(): Promise<void> {
  const gc = (global as { gc?: () => void }).gc;
  if (!gc) throw new Error('Run with node --expose-gc (NODE_OPTIONS=--expose-gc).');
  const config = resolveOptions({ brokerUrl: URL, resultBackend: URL });
  const broker = createBroker(config);
  const monitor = new TaskMonitor(
    broker,
    createResultBackend(config),
    new TaskControl(broker),
    config,
    resolveMonitorOptions({ historyPrefix: PREFIX, maxTasks: N }),
  );
  const r = new Redis(URL);
  const used = async () => Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
  const rss = async () => {
    gc();
    await new Promise((res) => setTimeout(res, 100));
    gc();
    return process.memoryUsage().rss;
  };
  const feed = (monitor as unknown as { onEvent(e: CeleryEvent): void }).onEvent.bind(monitor);
  const flush = () => (monitor as unknown as { writes: Promise<unknown> }).writes;
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

  const base = { redis: await used(), rss: await rss() };
  console.log(`start: redis used_memory ${mb(base.redis)}, rss ${mb(base.rss)}`);
  const t0 = Date.now();
  let t = Date.now() / 1000;
  for (let round = 1; round <= 2; round++) {
    for (let i = 0; i < N; i++) {
      const uuid = `${round}-${i}-0b8f2a1c-5d3e-4f60-9a7b-${String(i).padStart(12, '0')}`;
      const host = 'worker1@bench';
      t += 0.001;
      feed({
        type: 'task-received',
        hostname: host,
        timestamp: t,
        uuid,
        name: 'tasks.add',
        args: `(${i}, ${i})`,
        kwargs: '{}',
        root_id: uuid,
        parent_id: null,
        retries: 0,
        eta: null,
        expires: null,
      });
      feed({ type: 'task-started', hostname: host, timestamp: t + 0.0001, uuid });
      feed({
        type: 'task-succeeded',
        hostname: host,
        timestamp: t + 0.0002,
        uuid,
        result: String(2 * i),
        runtime: 0.0001,
      });
      if (i % 2000 === 0) await flush();
    }
    await flush();
    const now = { redis: await used(), rss: await rss() };
    console.log(
      `after ${round * N} tasks (${await monitor.history.size()} kept): redis used_memory +${mb(now.redis - base.redis)}, rss +${mb(now.rss - base.rss)} (rss ${mb(now.rss)}), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 5000);
    if (keys.length) await r.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await monitor.stop();
  await broker.close();
  r.disconnect();
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
