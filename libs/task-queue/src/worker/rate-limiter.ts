import { ConfigurationError } from '../errors';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds between two starts for a Celery rate limit: `'10/s'`, `'100/m'`, `'1000/h'`, or a number per second. */
export function parseRateLimit(limit: string | number): number {
  if (typeof limit === 'number') {
    if (!(limit > 0)) throw new ConfigurationError(`rateLimit must be > 0, got ${limit}.`);
    return 1000 / limit;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(limit);
  if (!m || Number(m[1]) <= 0)
    throw new ConfigurationError(`rateLimit "${limit}" is not a rate: write it as '10/s', '100/m' or '1000/h'.`);
  return UNITS[m[2] ?? 's'] / Number(m[1]);
}

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
