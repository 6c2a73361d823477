import { parseRateLimit } from '../options/rate-limit';

/**
 * Spaces task starts out per task name in this worker (Celery's per-worker meaning): each start
 * takes the next free slot, and `reserve()` says how long to wait for it.
 */
export class RateLimiter {
  private readonly next = new Map<string, number>();
  private readonly intervals = new Map<string, { limit: string | number; ms: number }>();

  private intervalOf(task: string, limit: string | number): number {
    const known = this.intervals.get(task);
    if (known && known.limit === limit) return known.ms;
    const ms = parseRateLimit(limit);
    this.intervals.set(task, { limit, ms });
    return ms;
  }

  /**
   * Milliseconds to wait before this start may go (0: now). The slot is reserved only when the
   * wait is at most `maxHoldMs`; a longer wait reserves nothing, so the caller can hand the message
   * back to the broker until then and try again.
   */
  reserve(task: string, limit: string | number, maxHoldMs = Infinity, now = Date.now()): number {
    const interval = this.intervalOf(task, limit);
    const slot = Math.max(now, this.next.get(task) ?? now);
    if (slot - now <= maxHoldMs) this.next.set(task, slot + interval);
    return slot - now;
  }
}
