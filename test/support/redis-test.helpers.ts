import Redis from 'ioredis';
import { REDIS_HOST, REDIS_PORT, redisUrlFor, suiteDb } from './test-env';
import { ResolvedTaskQueueOptions } from 'nestjs-celery/internal/options/resolved-options';
import { TaskQueueModuleOptions } from 'nestjs-celery/internal/options/task-queue-options';
import { resolveOptions } from 'nestjs-celery/internal/options/resolve-options';
import { ORIGIN, TaskMessage, buildTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { Delivery } from 'nestjs-celery/internal/brokers/broker.interface';

/** DB 1: broker keys shared with Python; DB 2: Node-only broker suites (each with its own key prefix); DB 3: results. */
export const BROKER_DB = suiteDb('redisBroker');
export const NODE_DB = suiteDb('redisNodeBroker');
export const RESULT_DB = suiteDb('redisResults');
/** A URL of the test Redis server (test/support/test-env.ts), or of another port (a private server). */
export const redisUrl = (db: number, port?: number) =>
  port === undefined ? redisUrlFor(db) : `redis://127.0.0.1:${port}/${db}`;

export function redisOptions(o: TaskQueueModuleOptions = {}): ResolvedTaskQueueOptions {
  return resolveOptions({
    brokerUrl: redisUrl(BROKER_DB),
    resultBackend: redisUrl(RESULT_DB),
    publishTimeout: 5000,
    ...o,
  });
}

/** A plain client for looking at keys (RESP2, like the library). */
export function inspector(db: number, port = REDIS_PORT): Redis {
  return new Redis({ host: REDIS_HOST, port, db, protocol: 2, lazyConnect: false, maxRetriesPerRequest: 1 });
}

export function taskMessage(
  name: string,
  args: unknown[],
  options: { priority?: number; taskId?: string } = {},
): TaskMessage {
  return buildTaskMessage(name, args, {}, options, { replyTo: 'test-reply-to', origin: ORIGIN });
}

/** Deletes every key of a prefix (never FLUSHDB: other suites share the server); `''` empties the DB. */
export async function deletePrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    if (keys.length) await r.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Collects deliveries as they come. */
export class DeliveryLog {
  readonly all: Delivery[] = [];
  /** Deliveries grouped by the synchronous burst (one reserve batch) they arrived in. */
  readonly bursts: number[] = [];
  private open = false;
  readonly handler = (d: Delivery) => {
    this.all.push(d);
    if (!this.open) {
      this.open = true;
      this.bursts.push(0);
      queueMicrotask(() => (this.open = false));
    }
    this.bursts[this.bursts.length - 1]++;
  };
  ids(): string[] {
    return this.all.map((d) => String(d.message.headers.id));
  }
}

/** kombu's separator between a queue name and its priority step. */
const SEP = '\x06\x16';

/** Every Redis key a queue can own: its four priority lists, its binding set and its dead-letter list. */
export function queueKeys(queue: string, prefix = ''): string[] {
  return [
    `${prefix}${queue}`,
    `${prefix}${queue}${SEP}3`,
    `${prefix}${queue}${SEP}6`,
    `${prefix}${queue}${SEP}9`,
    `${prefix}_kombu.binding.${queue}`,
    `${prefix}${queue}.dead-letter`,
  ];
}

/** How many messages wait in a queue's four priority lists. */
export async function waiting(r: Redis, queue: string, prefix = ''): Promise<number> {
  const lens = await Promise.all(
    queueKeys(queue, prefix)
      .slice(0, 4)
      .map((k) => r.llen(k)),
  );
  return lens.reduce((a, b) => a + b, 0);
}

/** Entries of the `unacked` hash whose routing key or envelope mentions `needle` (e.g. a queue name). */
export async function unackedFor(r: Redis, needle: string, prefix = ''): Promise<string[]> {
  const all = await r.hgetall(`${prefix}unacked`);
  return Object.entries(all)
    .filter(([, v]) => v.includes(needle))
    .map(([tag]) => tag);
}

/** Deletes `celery-task-meta-<id>` of each id. */
export async function deleteResults(r: Redis, ids: Iterable<string>, prefix = ''): Promise<void> {
  const keys = [...ids].map((id) => `${prefix}celery-task-meta-${id}`);
  for (let i = 0; i < keys.length; i += 500) await r.del(...keys.slice(i, i + 500));
}

/** Removes members of kombu binding sets that name one of our queues or hostnames (a killed Python worker leaves its pidbox binding). */
export async function removeBindingsMentioning(r: Redis, needles: string[]): Promise<void> {
  for (const key of await r.keys('_kombu.binding.*')) {
    for (const m of await r.smembers(key)) if (needles.some((n) => m.includes(n))) await r.srem(key, m);
  }
}
