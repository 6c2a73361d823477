import { Schedule } from './schedule.interface';

/** A schedule limited to [startAt, endAt] (either side open): the entry's `startAt` / `endAt`. */
export class BoundedSchedule implements Schedule {
  constructor(
    private readonly inner: Schedule,
    private readonly startMs: number | null,
    private readonly endMs: number | null,
  ) {}

  next(afterMs: number): number | null {
    const from = this.startMs !== null && afterMs < this.startMs ? this.startMs - 1 : afterMs;
    const n = this.inner.next(from);
    return n === null || (this.endMs !== null && n > this.endMs) ? null : n;
  }

  latest(atMs: number): number | null {
    const at = this.endMs !== null && atMs > this.endMs ? this.endMs : atMs;
    const l = this.inner.latest(at);
    return l === null || (this.startMs !== null && l < this.startMs) ? null : l;
  }

  describe(): string {
    return this.inner.describe();
  }
}
