/** What the autoscaler sizes: the worker's concurrency slots. */
export interface ScaledPool {
  /** Slots now. */
  readonly size: number;
  /** Tasks held, running or waiting for a slot. */
  readonly held: number;
  /** Sets the number of slots (and the prefetch that follows them). */
  resize(slots: number): void;
}

/**
 * Celery's autoscaler (worker/autoscale.py): every second, grow the slots to the tasks held (at
 * most `max`); shrink towards `min` only once `keepalive` ms have passed since the last grow, so a
 * burst that comes and goes does not make the pool flap. A timer, as Celery's polling thread: a
 * grow is due only when tasks already wait, so a second's delay costs little.
 */
export class TaskAutoscaler {
  private timer: NodeJS.Timeout | null = null;
  private lastScaleUp: number | null = null;

  constructor(
    private readonly pool: ScaledPool,
    private max: number,
    private min: number,
    private readonly keepaliveMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get bounds(): { max: number; min: number } {
    return { max: this.max, min: this.min };
  }

  info(): { max: number; min: number; current: number; qty: number } {
    return { ...this.bounds, current: this.pool.size, qty: this.pool.held };
  }

  /**
   * The `autoscale` command: new bounds (null keeps one), applied at once when the pool is outside
   * them, as Celery's `Autoscaler.update`. Throws RangeError on bounds that cannot work.
   */
  update(max: number | null, min: number | null): { max: number; min: number } {
    const nextMax = max ?? this.max;
    const nextMin = min ?? this.min;
    if (!Number.isInteger(nextMax) || nextMax < 1) throw new RangeError(`max must be a whole number >= 1, got ${max}`);
    if (!Number.isInteger(nextMin) || nextMin < 0 || nextMin > nextMax)
      throw new RangeError(`min must be a whole number from 0 to max (${nextMax}), got ${min}`);
    this.max = nextMax;
    this.min = nextMin;
    if (this.pool.size > nextMax) this.pool.resize(nextMax);
    else if (this.pool.size < nextMin) this.pool.resize(nextMin);
    return this.bounds;
  }

  /** One look: grow to the tasks held, or shrink after the keepalive. Returns whether it resized. */
  tick(): boolean {
    const slots = this.pool.size;
    const held = this.pool.held;
    const up = Math.min(held, this.max);
    if (up > slots) {
      this.pool.resize(up);
      this.lastScaleUp = this.now();
      return true;
    }
    const down = Math.max(held, this.min);
    if (down < slots && this.lastScaleUp !== null && this.now() - this.lastScaleUp > this.keepaliveMs) {
      this.pool.resize(down);
      return true;
    }
    return false;
  }
}
