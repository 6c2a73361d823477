import type Redis from 'ioredis';
import { Broker, deadLetterQueueOf } from '../brokers/broker.interface';
import { KOMBU_SEP, PRIORITY_STEPS, RedisKeys } from '../brokers/redis/redis-keys';

/** One queue as the dashboard, `taskq queues` and the metrics show it. */
export interface QueueStats {
  name: string;
  /** Messages waiting to be taken. */
  ready: number;
  /** Redis: ready messages per priority step (`0`, `3`, `6`, `9`); null on AMQP. */
  byPriority: Record<string, number> | null;
  /** Held until a later time (countdown, eta, retries). */
  delayed: number;
  /** Taken by a worker and not yet acknowledged (Redis: kombu's `unacked` hash); null where the broker cannot say (AMQP without the management API). */
  unacked: number | null;
  deadLetters: number;
  /** Workers consuming it (from their `active_queues` replies). */
  consumers: string[];
  /** Consumers as the broker counts them (AMQP passive declare); null where it cannot say (Redis has no consumer registry). */
  brokerConsumers: number | null;
  /** Change of `ready` per second since the previous read (positive: filling up). */
  readyPerSecond: number | null;
}

/** Exchanges that are not task queues (remote control, replies, events). */
const NOT_QUEUES = /^(celery\.pidbox|reply\.celery\.pidbox|celeryev)$|\.pidbox$|^celeryev\./;

/**
 * Reads queue lengths. On Redis it reads kombu's keys directly (four priority lists, our delayed
 * set, kombu's `unacked` hash, the dead-letter list) in one pipeline per queue; elsewhere it asks
 * the broker. Queues are the given ones, the ones workers consume, and on Redis those bound in
 * `_kombu.binding.*` (where Celery declares every queue it publishes to).
 */
export class QueueStatsReader {
  private readonly keys: RedisKeys | null;
  private last = new Map<string, { at: number; ready: number }>();

  constructor(
    private readonly broker: Broker,
    private readonly redis: Redis | null,
    keyPrefix: string,
  ) {
    this.keys = redis ? new RedisKeys(keyPrefix) : null;
  }

  async discover(known: readonly string[]): Promise<string[]> {
    const names = new Set(known);
    if (this.redis && this.keys) {
      let cursor = '0';
      let rounds = 0;
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', `${this.keys.binding('*')}`, 'COUNT', 500);
        cursor = next;
        for (const key of found) {
          const exchange = key.slice(this.keys.binding('').length);
          if (NOT_QUEUES.test(exchange)) continue;
          for (const m of await this.redis.smembers(key)) {
            const queue = m.split(KOMBU_SEP).pop();
            if (queue && !NOT_QUEUES.test(queue)) names.add(queue);
          }
        }
      } while (cursor !== '0' && ++rounds < 50);
    }
    return [...names].filter((n) => !n.endsWith('.dead-letter')).sort();
  }

  async read(queues: readonly string[], consumersOf: (queue: string) => string[]): Promise<QueueStats[]> {
    const unacked = await this.unackedByQueue();
    const out: QueueStats[] = [];
    for (const name of queues) {
      const s = this.redis ? await this.readRedis(name) : await this.readBroker(name);
      const now = Date.now();
      const prev = this.last.get(name);
      this.last.set(name, { at: now, ready: s.ready });
      const readyPerSecond =
        prev && now > prev.at ? Math.round(((s.ready - prev.ready) / ((now - prev.at) / 1000)) * 100) / 100 : null;
      const brokerConsumers = this.broker.consumerCount
        ? await this.broker.consumerCount(name).catch(() => null)
        : null;
      out.push({
        name,
        ...s,
        unacked: unacked ? (unacked.get(name) ?? 0) : null,
        consumers: consumersOf(name),
        brokerConsumers,
        readyPerSecond,
      });
    }
    return out;
  }

  private async readRedis(
    name: string,
  ): Promise<Omit<QueueStats, 'name' | 'consumers' | 'brokerConsumers' | 'readyPerSecond' | 'unacked'>> {
    const keys = this.keys!;
    const p = this.redis!.pipeline();
    for (const b of keys.buckets(name)) p.llen(b);
    p.zcard(keys.delayed(name));
    p.llen(keys.list(deadLetterQueueOf(name)));
    const res = ((await p.exec()) ?? []).map(([, v]) => Number(v ?? 0));
    const byPriority: Record<string, number> = {};
    PRIORITY_STEPS.forEach((step, i) => (byPriority[String(step)] = res[i]));
    return {
      ready: res.slice(0, PRIORITY_STEPS.length).reduce((a, b) => a + b, 0),
      byPriority,
      delayed: res[PRIORITY_STEPS.length],
      deadLetters: res[PRIORITY_STEPS.length + 1],
    };
  }

  private async readBroker(
    name: string,
  ): Promise<Omit<QueueStats, 'name' | 'consumers' | 'brokerConsumers' | 'readyPerSecond' | 'unacked'>> {
    const [ready, delayed, deadLetters] = await Promise.all([
      this.broker.queueLength(name).catch(() => 0),
      Promise.resolve(this.broker.delayedLength?.(name) ?? 0).catch(() => 0),
      this.broker.queueLength(deadLetterQueueOf(name)).catch(() => 0),
    ]);
    return { ready, byPriority: null, delayed, deadLetters };
  }

  /**
   * Redis: counts kombu's `unacked` entries (`[envelope, exchange, routing_key]`) per routing key,
   * which is the queue name for Celery's default direct routing. Past 10,000 entries it gives up
   * (one HVALS would be too big) and reports nothing rather than a wrong number.
   */
  private async unackedByQueue(): Promise<Map<string, number> | null> {
    if (!this.redis || !this.keys) return null;
    const n = await this.redis.hlen(this.keys.unacked);
    const counts = new Map<string, number>();
    if (n === 0 || n > 10_000) return n === 0 ? counts : null;
    for (const v of await this.redis.hvals(this.keys.unacked)) {
      try {
        const entry = JSON.parse(v) as unknown[];
        const rk = String(entry[2] ?? '');
        counts.set(rk, (counts.get(rk) ?? 0) + 1);
      } catch {
        /* an entry kombu cannot read either: not counted */
      }
    }
    return counts;
  }
}
