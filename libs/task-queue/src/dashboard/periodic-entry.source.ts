/** A periodic entry as the dashboard shows it; a beat store maps its own entries onto this. */
export interface PeriodicEntryView {
  name: string;
  task: string;
  /** Human form of the schedule, e.g. a cron expression or `every 30s`. */
  schedule: string;
  enabled: boolean;
  lastRunAt: string | null;
  nextRunAt: string | null;
  totalRunCount: number | null;
}

/**
 * What the dashboard reads periodic entries from. Optional: provide it under `PERIODIC_ENTRY_SOURCE`
 * (e.g. from a beat module) and the Periodic page lists them; without it, the page says so.
 */
export interface PeriodicEntrySource {
  listEntries(): Promise<PeriodicEntryView[]>;
}

/** A string token, so a beat module can provide it without importing the dashboard. */
export const PERIODIC_ENTRY_SOURCE = 'TASKQ_PERIODIC_ENTRY_SOURCE';
