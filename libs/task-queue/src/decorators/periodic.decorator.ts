import { SetMetadata } from '@nestjs/common';
import { PERIODIC_METADATA } from '../beat/beat.constants';
import { PeriodicOptions, ScheduleSpec } from '../options/beat-options';

/**
 * Runs a @SharedTask method on a schedule: an entry named after the task is upserted at bootstrap
 * and sent by whichever replica leads (see `worker.beat`).
 *
 * @example @Periodic({ every: 5 }) @SharedTask('tasks.ping') ping() {}
 * @example @Periodic({ cron: '30 2 * * *', tz: 'Europe/Berlin' }, { kwargs: { full: true }, options: { expires: 3600 } })
 */
export function Periodic(schedule: ScheduleSpec, options: PeriodicOptions = {}): MethodDecorator {
  return SetMetadata(PERIODIC_METADATA, { schedule, options });
}
