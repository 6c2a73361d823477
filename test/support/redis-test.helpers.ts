import Redis from 'ioredis';
import { REDIS_HOST, REDIS_PORT, redisUrlFor, suiteDb } from './test-env';
import { ResolvedTaskQueueOptions, TaskQueueModuleOptions, resolveOptions } from 'nestjs-celery/internal/task-queue.options';
import { ORIGIN, TaskMessage, buildTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { Delivery } from 'nestjs-celery/internal/brokers/broker.interface';

/** DB 1: broker keys shared with Python; DB 2: Node-only broker suites (each with its own key prefix); DB 3: results. */
export const BROKER_DB = suiteDb('redisBroker');
export const NODE_DB = suiteDb('redisNodeBroker');
export const RESULT_DB = suiteDb('redisResults');
/** A URL of the test Redis server (test/support/test-env.ts), or of another port (a private server). */
export const redisUrl = (db: number, port?: number) => (port === undefined ? redisUrlFor(db) : `redis://127.0.0.1:${port}/${db}`);

export function redisOptions(o: TaskQueueModuleOptions = {}): ResolvedTaskQueueOptions {
  return resolveOptions({ brokerUrl: redisUrl(BROKER_DB), resultBackend: redisUrl(RESULT_DB), publishTimeout: 5000, ...o });
}

/** A plain client for looking at keys (RESP2, like the library). */
export function inspector(db: number, port = REDIS_PORT): Redis {
  return new Redis({ host: REDIS_HOST, port, db, protocol: 2, lazyConnect: false, maxRetriesPerRequest: 1 });
}

export function taskMessage(name: string, args: unknown[], options: { priority?: number; taskId?: string } = {}): TaskMessage {
  return buildTaskMessage(name, args, {}, options, { replyTo: 'test-reply-to', origin: ORIGIN });
}

/** Deletes every key of a prefix (never FLUSHDB: other suites share the server). */
export async function deletePrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
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
