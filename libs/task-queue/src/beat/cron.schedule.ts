import { Cron } from 'croner';
import { ConfigurationError } from '../errors';
import { Schedule } from './schedule.interface';

/**
 * `{ cron: 'm h dom mon dow', tz }` with Celery's crontab semantics: day-of-month AND day-of-week
 * must both match (croner's `domAndDow: true`), Sunday = 0, five fields only (no seconds).
 *
 * Time zones and DST are croner's (it follows Vixie cron): a fixed-time entry (one value in minute
 * and hour, e.g. `30 2 * * *`) runs once when its time occurs twice (the first occurrence), and at
 * the first valid time after the gap when its time does not exist (03:00 on a spring-forward day
 * in Europe/Berlin); an entry with a wildcard or step in the hour (hourly) runs at every real
 * occurrence: twice in the repeated hour (two real hours) and not in the hour that does not exist.
 */
export class CronSchedule implements Schedule {
  private readonly cron: Cron;

  constructor(
    readonly expression: string,
    readonly tz = 'UTC',
  ) {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) {
      throw new ConfigurationError(
        `Cron "${expression}" must have 5 fields (minute hour day-of-month month day-of-week), as Celery's crontab; got ${fields.length}.`,
      );
    }
    try {
      this.cron = new Cron(fields.join(' '), { timezone: tz, domAndDow: true, paused: true });
      this.cron.nextRun(new Date(0));
    } catch (err) {
      throw new ConfigurationError(`Cron "${expression}" (tz ${tz}) is not valid: ${(err as Error).message}.`);
    }
  }

  next(afterMs: number): number | null {
    return this.cron.nextRun(new Date(afterMs))?.getTime() ?? null;
  }

  latest(atMs: number): number | null {
    const [prev] = this.cron.previousRuns(1, new Date(atMs + 1));
    return prev ? prev.getTime() : null;
  }

  describe(): string {
    return `cron "${this.expression}" ${this.tz}`;
  }
}
