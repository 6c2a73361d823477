import { Command } from 'commander';
import type Redis from 'ioredis';
import { schemeOf } from '../transports/url-scheme';
import { parseRedisUrl } from '../transports/redis/redis-url';
import { loadIoredis } from '../peers/ioredis.loader';
import { QueueStats, QueueStatsReader } from '../monitor/queue-stats.reader';
import { cliContext, ConnectionFlags } from './cli-context';

/** `taskq queues`: ready, delayed, unacked and dead-lettered messages per queue, and who consumes it. */
export function registerQueuesCommand(program: Command, out: (line: string) => void): void {
  program
    .command('queues')
    .description('print each queue: ready (per priority on Redis), delayed, unacked, dead letters, consumers')
    .option('-Q, --queue <queues>', 'comma-separated queues to show besides the discovered ones')
    .option('--json', 'one JSON object per queue')
    .action(async (o: { queue?: string; json?: boolean }) => {
      const ctx = cliContext(program.opts<ConnectionFlags>());
      const url = ctx.config.brokerUrl;
      let redis: Redis | null = null;
      try {
        if (/^rediss?$/.test(schemeOf(url))) {
          const ep = parseRedisUrl(url, ctx.config.redis.tls);
          const RedisClient = loadIoredis();
          redis = new RedisClient({
            host: ep.host,
            port: ep.port,
            db: ep.db,
            username: ep.username,
            password: ep.password,
            tls: ep.tls || undefined,
            maxRetriesPerRequest: 2,
          });
        }
        const reader = new QueueStatsReader(ctx.broker, redis, ctx.config.redis.keyPrefix);
        // Consumers come from the workers themselves (Celery's active_queues).
        const replies = ctx.broker.listen ? await ctx.control.inspect('active_queues', {}, { timeout: 1 }) : [];
        const consuming = new Map<string, string[]>();
        for (const r of replies) {
          for (const [host, qs] of Object.entries(r)) {
            for (const q of Array.isArray(qs) ? qs : []) {
              const name = String((q as { name?: unknown }).name);
              consuming.set(name, [...(consuming.get(name) ?? []), host]);
            }
          }
        }
        const extra = o.queue
          ? o.queue
              .split(',')
              .map((q) => q.trim())
              .filter(Boolean)
          : [];
        const names = await reader.discover([ctx.config.defaultQueue, ...extra, ...consuming.keys()]);
        const stats = await reader.read(names, (q) => consuming.get(q) ?? []);
        if (o.json) for (const s of stats) out(JSON.stringify(s));
        else printTable(stats, out);
      } finally {
        redis?.disconnect();
        await ctx.close();
      }
    });
}

function printTable(stats: QueueStats[], out: (line: string) => void): void {
  const rows = [['QUEUE', 'READY', 'PRIORITY 0/3/6/9', 'DELAYED', 'UNACKED', 'DEAD', 'CONSUMERS']];
  for (const s of stats) {
    rows.push([
      s.name,
      String(s.ready),
      s.byPriority ? Object.values(s.byPriority).join('/') : '-',
      String(s.delayed),
      s.unacked === null ? '-' : String(s.unacked),
      String(s.deadLetters),
      s.consumers.join(',') || '-',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    out(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
}
