import { ResolvedTaskOptions } from './task-options';

/** Whether an error retries the task by itself (autoretryFor, minus dontAutoretryFor). */
export function shouldAutoretry(error: unknown, o: ResolvedTaskOptions): boolean {
  if (!(error instanceof Error)) return false;
  if (o.dontAutoretryFor.some((cls) => error instanceof cls)) return false;
  return o.autoretryFor.some((cls) => error instanceof cls);
}

/**
 * Seconds before automatic retry number `retries + 1`, as Celery computes it: with backoff,
 * `base × 2^retries` capped at retryBackoffMax, then with jitter a uniform pick in [0, that];
 * without backoff, defaultRetryDelay.
 */
export function autoretryCountdown(
  retries: number,
  o: ResolvedTaskOptions,
  random: () => number = Math.random,
): number {
  if (!o.retryBackoff) return o.defaultRetryDelay;
  const base = o.retryBackoff === true ? 1 : o.retryBackoff;
  const capped = Math.min(o.retryBackoffMax, base * 2 ** retries);
  return o.retryJitter ? Math.floor(random() * (capped + 1)) : capped;
}
