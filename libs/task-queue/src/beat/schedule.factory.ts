import { ConfigurationError } from '../errors';
import { BeatEntry, ScheduleSpec } from '../options/beat-options';
import { BoundedSchedule } from './bounded.schedule';
import { CronSchedule } from './cron.schedule';
import { EverySchedule } from './every.schedule';
import { Schedule } from './schedule.interface';

/** The schedule of a spec alone (no bounds). Throws ConfigurationError saying what is wrong. */
export function scheduleOf(spec: ScheduleSpec): Schedule {
  if (spec && typeof (spec as { every?: unknown }).every === 'number')
    return new EverySchedule((spec as { every: number }).every);
  if (spec && typeof (spec as { cron?: unknown }).cron === 'string')
    return new CronSchedule((spec as { cron: string }).cron, (spec as { tz?: string }).tz ?? 'UTC');
  throw new ConfigurationError(
    `Schedule ${JSON.stringify(spec)} is not one of { every: seconds } or { cron: 'm h dom mon dow', tz? } (solar schedules are not supported).`,
  );
}

/** The schedule of an entry, with its startAt/endAt bounds. */
export function entrySchedule(entry: BeatEntry): Schedule {
  const inner = scheduleOf(entry.schedule);
  const start = timeOf(entry.startAt, 'startAt');
  const end = timeOf(entry.endAt, 'endAt');
  return start === null && end === null ? inner : new BoundedSchedule(inner, start, end);
}

function timeOf(v: string | Date | undefined, what: string): number | null {
  if (v === undefined || v === null) return null;
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (!Number.isFinite(ms))
    throw new ConfigurationError(`${what} ${String(v)} is not a time: give a Date or an ISO-8601 string.`);
  return ms;
}

/** Checks an entry before it is stored, so a bad one fails where it is declared, not in the scheduler. */
export function validateEntry(name: string, entry: BeatEntry): void {
  if (!name || typeof name !== 'string') throw new ConfigurationError('A periodic entry needs a non-empty name.');
  if (!entry || typeof entry.task !== 'string' || !entry.task)
    throw new ConfigurationError(`Periodic entry "${name}" needs a task name (task: 'tasks.cleanup').`);
  if (entry.args !== undefined && !Array.isArray(entry.args))
    throw new ConfigurationError(`Periodic entry "${name}": args must be an array.`);
  if (
    entry.kwargs !== undefined &&
    (typeof entry.kwargs !== 'object' || entry.kwargs === null || Array.isArray(entry.kwargs))
  ) {
    throw new ConfigurationError(`Periodic entry "${name}": kwargs must be an object.`);
  }
  if (entry.limit !== undefined && (!Number.isInteger(entry.limit) || entry.limit < 1))
    throw new ConfigurationError(`Periodic entry "${name}": limit must be a whole number >= 1.`);
  const m = entry.missed;
  if (
    m !== undefined &&
    m !== 'once' &&
    m !== 'skip' &&
    !(typeof m === 'object' && Number.isInteger(m.catchUp) && m.catchUp >= 1)
  ) {
    throw new ConfigurationError(
      `Periodic entry "${name}": missed must be 'once', 'skip' or { catchUp: N } with N >= 1.`,
    );
  }
  try {
    entrySchedule(entry);
  } catch (err) {
    throw new ConfigurationError(`Periodic entry "${name}": ${(err as Error).message}`);
  }
}
