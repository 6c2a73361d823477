import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisKeys } from './redis-keys';
import { ReadyGate, withReconnect } from '../../transports/redis/redis.connection';
import { MOVE_DUE_SCRIPT } from './lua/move-due.script';

/** Most messages one move-due call takes from a queue's delayed set. */
const MOVE_LIMIT = 1000;
/** After a failed move, try again this much later (ms). */
const RETRY_MS = 1000;

/**
 * The publisher's side of broker-held delays. Consumers move due messages before every reserve;
 * this covers queues with no consumer of ours (Python workers only, which never read the delayed
 * set): a broker that published delayed messages moves them itself when they fall due, while it
 * is open. One timer for the earliest due time of all queues, none per message; it does not keep
 * the process alive. It stops at the latest due time it scheduled itself, so a publisher does not
 * keep moving other publishers' messages for ever.
 */
export class DelayedMover {
  /** queue → [next due ms to act on, latest due ms this broker scheduled]. */
  private readonly queues = new Map<string, [number, number]>();
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  private closed = false;

  constructor(
    private readonly cmd: Redis,
    private readonly gate: ReadyGate,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  /** Notes a message published to `queue`'s delayed set, due at `dueMs`. */
  track(queue: string, dueMs: number): void {
    if (this.closed) return;
    const cur = this.queues.get(queue);
    this.queues.set(queue, cur ? [Math.min(cur[0], dueMs), Math.max(cur[1], dueMs)] : [dueMs, dueMs]);
    if (dueMs < this.armedFor) this.arm();
  }

  /** Moves the due messages of a queue now. Resolves to how many moved and the next due time (-1: none). */
  async moveDue(queue: string, deadline = Date.now() + 5000): Promise<{ moved: number; nextDue: number }> {
    const k = this.keys;
    const [moved, nextDue] = await withReconnect(
      this.cmd,
      this.gate,
      deadline,
      () => `Redis is unreachable: cannot move the due messages of queue "${queue}".`,
      () =>
        MOVE_DUE_SCRIPT.run<[number, number]>(
          this.cmd,
          [k.delayed(queue), ...k.buckets(queue)],
          [Date.now(), MOVE_LIMIT],
        ),
    );
    return { moved: Number(moved), nextDue: Number(nextDue) };
  }

  close(): void {
    this.closed = true;
    this.queues.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
    if (this.closed || !this.queues.size) return;
    const next = Math.min(...[...this.queues.values()].map(([due]) => due));
    this.armedFor = next;
    this.timer = setTimeout(() => void this.fire(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private async fire(): Promise<void> {
    this.timer = null;
    const now = Date.now();
    for (const [queue, [due, latest]] of [...this.queues]) {
      if (due > now) continue;
      try {
        const { nextDue } = await this.moveDue(queue);
        // Keep going while messages we scheduled may still wait; the set's head tells when the next falls due.
        if (nextDue >= 0 && nextDue <= latest) this.queues.set(queue, [nextDue, latest]);
        else this.queues.delete(queue);
      } catch (err) {
        this.logger.warn(
          `Could not move the due messages of queue "${queue}" (${(err as Error).message}); trying again.`,
        );
        this.queues.set(queue, [Date.now() + RETRY_MS, latest]);
      }
    }
    this.arm();
  }
}
