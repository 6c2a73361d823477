import type Redis from 'ioredis';
import { RedisKeys } from './redis-keys';
import { ConnectionLostError, ReadyGate, untilClosed } from '../../transports/redis/redis.connection';

interface PendingAck {
  tag: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Collects the acks of one event-loop turn and sends them as one MULTI (ZREM unacked_index …;
 * HDEL unacked …): one round trip for any number of tasks, and no timer per task.
 * During an outage acks wait and are sent when Redis is back; close() drains them.
 */
export class AckBatcher {
  private pending: PendingAck[] = [];
  private scheduled = false;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly conn: Redis,
    private readonly gate: ReadyGate,
    private readonly keys: RedisKeys,
  ) {}

  ack(tag: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ tag, resolve, reject });
      this.schedule();
    });
  }

  /** Sends what is pending; resolves when nothing is left or the deadline passes (then rejects). */
  async drain(deadline: number): Promise<void> {
    while (this.pending.length || this.flushing) {
      if (Date.now() > deadline) throw new Error(`${this.pending.length} acks could not be sent before the deadline.`);
      await (this.flushing ?? this.flush());
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing) void this.flush();
    });
  }

  private flush(): Promise<void> {
    const run = async () => {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        const tags = batch.map((a) => a.tag);
        try {
          await this.gate.wait(Infinity, () => 'Acks are waiting for Redis.');
          await untilClosed(
            this.conn,
            this.conn
              .multi()
              .zrem(this.keys.unackedIndex, ...tags)
              .hdel(this.keys.unacked, ...tags)
              .exec(),
          );
          for (const a of batch) a.resolve();
        } catch (err) {
          if (err instanceof ConnectionLostError) {
            // ZREM/HDEL are idempotent: send them again once the connection is back.
            this.pending = batch.concat(this.pending);
            continue;
          }
          for (const a of batch) a.reject(err as Error);
        }
      }
    };
    this.flushing = run().finally(() => (this.flushing = null));
    return this.flushing;
  }
}
