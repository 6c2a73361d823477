import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { KOMBU_SEP, RedisKeys } from './redis-keys';
import { ReadyGate, withReconnect } from '../../transports/redis/redis.connection';
import { parseUnackedEntry } from './unacked-entry';
import { REQUEUE_SCRIPT } from './lua/requeue.script';
import { RELEASE_MUTEX_SCRIPT } from './lua/release-mutex.script';

const CHUNK = 500;

/**
 * Puts unacked messages back on their queues, as kombu's `restore_visible` and `restore_by_tag`
 * do, on the same keys, so that Node and Python consumers recover each other's messages.
 * Each move is one compare-and-move script (requeue.script.ts); the kombu mutex keeps two
 * processes from scanning at once, as in kombu.
 */
export class UnackedRestorer {
  constructor(
    private readonly conn: Redis,
    private readonly gate: ReadyGate,
    private readonly keys: RedisKeys,
    private readonly visibilityTimeout: number,
    private readonly logger: Logger,
    /** kombu's `unacked_mutex_expire`, in seconds (`redis.unackedMutexExpire`). */
    private readonly mutexExpire = 300,
  ) {}

  /** Restores every message delivered more than `visibilityTimeout` seconds ago. Resolves to how many. */
  async restoreVisible(now = Date.now() / 1000): Promise<number> {
    const token = randomUUID();
    const locked = await this.conn.set(this.keys.unackedMutex, token, 'PX', Math.round(this.mutexExpire * 1000), 'NX');
    if (locked !== 'OK') return 0;
    try {
      const ceiling = now - this.visibilityTimeout;
      // kombu reads newest first (ZREVRANGEBYSCORE ceiling 0); the order does not matter for RPUSH of independent messages.
      const tags = await this.conn.zrevrangebyscore(this.keys.unackedIndex, ceiling, 0);
      return await this.restoreTags(tags, 'R');
    } finally {
      await RELEASE_MUTEX_SCRIPT.run(this.conn, [this.keys.unackedMutex], [token]).catch(() => undefined);
    }
  }

  /**
   * Restores the given tags now: `R` puts them at the front (served next, kombu's restore),
   * `L` at the back (kombu's reject with requeue). Resolves to how many were moved.
   */
  async restoreTags(tags: readonly string[], direction: 'R' | 'L', deadline = Infinity): Promise<number> {
    let moved = 0;
    for (let i = 0; i < tags.length; i += CHUNK) {
      const chunk = tags.slice(i, i + CHUNK);
      const values = await this.retry(deadline, () => this.conn.hmgetBuffer(this.keys.unacked, ...chunk));
      for (let j = 0; j < chunk.length; j++) moved += await this.restoreOne(chunk[j], values[j], direction, deadline);
    }
    return moved;
  }

  /** Every step here is idempotent (reads, compare-and-move), so it is simply sent again after a reconnect. */
  private retry<T>(deadline: number, op: () => Promise<T>): Promise<T> {
    return withReconnect(
      this.conn,
      this.gate,
      deadline,
      () => 'Redis did not come back in time to restore unacked messages.',
      op,
    );
  }

  private async restoreOne(tag: string, value: Buffer | null, direction: 'R' | 'L', deadline: number): Promise<number> {
    if (!value) {
      // An index member without a hash value (acked between our reads, or torn by another client): drop it.
      return this.retry(deadline, () =>
        REQUEUE_SCRIPT.run<number>(this.conn, [this.keys.unacked, this.keys.unackedIndex], [tag, '', '', direction]),
      );
    }
    const entry = parseUnackedEntry(value.toString('utf8'));
    if (!entry) {
      this.logger.error(
        `Unacked entry ${tag} is not [envelope, exchange, routing_key]; left in place for a person to inspect.`,
      );
      return 0;
    }
    const queues = await this.retry(deadline, () => this.lookup(entry.exchange, entry.routingKey));
    if (!queues.length) {
      this.logger.error(
        `Cannot restore unacked message ${tag}: exchange "${entry.exchange}" has no queue bound for routing key "${entry.routingKey}". Left in unacked.`,
      );
      return 0;
    }
    const targets = queues.map((q) => this.keys.bucket(q, entry.priority));
    return this.retry(deadline, () =>
      REQUEUE_SCRIPT.run<number>(
        this.conn,
        [this.keys.unacked, this.keys.unackedIndex, ...targets],
        [tag, value, entry.restored, direction],
      ),
    );
  }

  /** kombu's `_lookup`: the default exchange routes to the queue named by the key; others read the binding set. */
  private async lookup(exchange: string, routingKey: string): Promise<string[]> {
    if (!exchange) return routingKey ? [routingKey] : [];
    const members = await this.conn.smembers(this.keys.binding(exchange));
    const out = new Set<string>();
    for (const m of members) {
      const [rk, pattern, queue] = m.split(KOMBU_SEP);
      if (queue === undefined) continue;
      if (rk === routingKey || pattern === '#' || topicMatch(rk, routingKey)) out.add(queue);
    }
    return [...out];
  }
}

/** AMQP topic match: `*` one word, `#` zero or more words. */
function topicMatch(pattern: string, key: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('#')) return false;
  const re = pattern
    .split('.')
    .map((w) => (w === '#' ? '.*' : w === '*' ? '[^.]+' : w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('\\.');
  return new RegExp(`^${re}$`).test(key);
}
