/**
 * A schedule as the scheduler sees it: instants (ms since the epoch, UTC), never wall-clock times,
 * so that every replica computes the same slots and a host's time zone plays no part.
 */
export interface Schedule {
  /** The first slot strictly after `afterMs`, or null when there is none. */
  next(afterMs: number): number | null;
  /** The latest slot at or before `atMs`, or null when there is none. */
  latest(atMs: number): number | null;
  /** Readable form for `taskq schedule list`. */
  describe(): string;
}
