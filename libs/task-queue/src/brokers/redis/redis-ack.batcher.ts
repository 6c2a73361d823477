import type Redis from 'ioredis';
import { RedisKeys } from './redis-keys';
import { ConnectionLostError, ReadyGate, untilClosed } from '../../transports/redis/redis.connection';
import { RedisResultWrite } from '../../transports/redis/result-write';
import { ACK_STORE_SCRIPT } from './lua/ack-store.script';

interface PendingAck {
  tag: string;
  /** A result to store before this ack, in the same script (same server as the backend). */
  write?: RedisResultWrite;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Collects the acks of one event-loop turn and sends them as one MULTI (ZREM unacked_index …;
 * HDEL unacked …): one round trip for any number of tasks, and no timer per task. Acks that carry
 * a result (`ackWithResult`) make the batch one ack-store script instead: results stored, then acked.
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

  /** Stores `write` (Celery's result key, SETEX + PUBLISH) and then acks `tag`, atomically, with this turn's batch. */
  ackWithResult(tag: string, write: RedisResultWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ tag, write, resolve, reject });
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
          await untilClosed(this.conn, this.send(batch, tags));
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

  private send(batch: PendingAck[], tags: string[]): Promise<unknown> {
    const keys: string[] = [this.keys.unackedIndex, this.keys.unacked];
    const args: (string | number)[] = [0];
    for (const a of batch) {
      if (!a.write) continue;
      keys.push(a.write.key);
      args.push(a.write.json, a.write.ttl);
    }
    if (keys.length === 2)
      return this.conn
        .multi()
        .zrem(this.keys.unackedIndex, ...tags)
        .hdel(this.keys.unacked, ...tags)
        .exec();
    args[0] = keys.length - 2;
    for (const t of tags) args.push(t);
    return ACK_STORE_SCRIPT.run(this.conn, keys, args);
  }
}
