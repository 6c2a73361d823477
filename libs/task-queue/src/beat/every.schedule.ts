import { ConfigurationError } from '../errors';
import { Schedule } from './schedule.interface';

/**
 * `{ every: S }`: slots at every multiple of S seconds since the Unix epoch. Aligning to the epoch
 * (as BullMQ's `every` does) rather than to the last send (Celery's interval, which drifts) gives
 * every replica the same slot instants, so a slot has one identity (its task id) wherever it is
 * computed; that is what makes a takeover unable to send a slot twice.
 */
export class EverySchedule implements Schedule {
  private readonly periodMs: number;

  constructor(readonly seconds: number) {
    this.periodMs = Math.round(seconds * 1000);
    if (!Number.isFinite(seconds) || this.periodMs < 1) {
      throw new ConfigurationError(`Schedule { every: ${seconds} }: every must be a number of seconds >= 0.001.`);
    }
  }

  next(afterMs: number): number {
    return (Math.floor(afterMs / this.periodMs) + 1) * this.periodMs;
  }

  latest(atMs: number): number {
    return Math.floor(atMs / this.periodMs) * this.periodMs;
  }

  describe(): string {
    return `every ${this.seconds}s`;
  }
}
