/**
 * Node's setTimeout takes at most 2^31 - 1 ms (about 24.8 days); a longer delay fires after 1 ms
 * with only a warning. A time limit or an ETA that long must not fire at once, so long waits are
 * chained in steps of at most this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer that can be cleared, whatever its length. */
export interface LongTimer {
  clear(): void;
}

/** Calls `fn` after `ms` milliseconds, for any finite `ms` (chained timers beyond MAX_TIMER_MS). */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let timer: NodeJS.Timeout | null = null;
  let cleared = false;
  const arm = (left: number) => {
    const step = Math.min(Math.max(0, left), MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (cleared) return;
      if (left > step) arm(left - step);
      else fn();
    }, step);
  };
  arm(ms);
  return {
    clear: () => {
      cleared = true;
      if (timer) clearTimeout(timer);
    },
  };
}
