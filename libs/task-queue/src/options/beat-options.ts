import type { SendOptions } from '../protocol/task-message';

/**
 * Periodic tasks ("beat"): what a schedule entry says and how the scheduler runs. Entries are data,
 * stored where every replica sees them (see docs/periodic-tasks.md).
 */

/** Every N seconds, at instants aligned to the Unix epoch (so every replica computes the same slots). */
export interface EverySpec {
  /** Seconds between slots (> 0; fractions allowed, millisecond precision). Slots fall on multiples of it since 1970-01-01T00:00:00Z. */
  every: number;
}

/** A 5-field crontab (minute hour day-of-month month day-of-week) with Celery's semantics. */
export interface CronSpec {
  /** `m h dom mon dow`; day-of-month AND day-of-week must both match (Celery, not Vixie cron); Sunday = 0. */
  cron: string;
  /**
   * IANA time zone the fields are read in.
   * @defaultValue `'UTC'`
   */
  tz?: string;
}

export type ScheduleSpec = EverySpec | CronSpec;

/**
 * What to do with slots that passed while no scheduler ran (all replicas down, a takeover):
 * - `'once'`: send the latest missed slot once, drop the older ones (Celery beat's behaviour);
 * - `'skip'`: send a slot only while it is at most `beat.skipGraceSeconds` late;
 * - `{ catchUp: N }`: send each missed slot, the N latest at most, oldest first.
 */
export type MissedRunPolicy = 'once' | 'skip' | { catchUp: number };

/** Options of the messages an entry sends: Celery's `apply_async` options that make sense for a periodic send. */
export type BeatSendOptions = Pick<
  SendOptions,
  'queue' | 'priority' | 'timeLimit' | 'softTimeLimit' | 'ignoreResult' | 'shadow' | 'headers'
> & {
  /** Seconds after the send after which the task must not run. @defaultValue no expiry */
  expires?: number;
};

/** One entry of `beatSchedule` (Celery's `beat_schedule[name]`), or of BeatService.add. */
export interface BeatEntry {
  /** Registered task name, e.g. `tasks.cleanup` or a Python task `py.add`. */
  task: string;
  schedule: ScheduleSpec;
  /** @defaultValue `[]` */
  args?: unknown[];
  /** @defaultValue `{}` */
  kwargs?: Record<string, unknown>;
  /** @defaultValue `{}` (the task's own queue, else the default queue) */
  options?: BeatSendOptions;
  /** No slot before this time (ISO-8601 string or Date). @defaultValue no bound */
  startAt?: string | Date;
  /** No slot after this time. @defaultValue no bound */
  endAt?: string | Date;
  /** Stop after this many sends in all. @defaultValue no limit */
  limit?: number;
  /** @defaultValue `'once'` */
  missed?: MissedRunPolicy;
}

/** The entry options of `@Periodic(schedule, options)`. */
export type PeriodicOptions = Omit<BeatEntry, 'task' | 'schedule'>;

/** Options of the scheduler, module option `beat`. */
export interface BeatOptions {
  /**
   * Where entries, the due set and the leader lease live: `redis://…` or `memory://name`.
   * @defaultValue the broker URL when it is Redis, else the result backend when it is Redis, else
   * (memory broker) an in-process store; an AMQP broker with the rpc:// backend must set it.
   */
  store?: string;
  /**
   * Seconds a leader's lease lasts without renewal: a dead leader is replaced within this plus `renewSeconds`.
   * @defaultValue 5
   */
  leaseSeconds?: number;
  /**
   * Seconds between lease renewals by the leader and takeover attempts by the others.
   * @defaultValue 1
   */
  renewSeconds?: number;
  /**
   * Longest pause between two ticks of the leader (a runtime change is seen within it); the leader
   * wakes earlier when the next entry is due sooner.
   * @defaultValue 1
   */
  maxTickSeconds?: number;
  /**
   * With the `'skip'` missed-run policy, how late a slot may still be sent.
   * @defaultValue 2
   */
  skipGraceSeconds?: number;
  /**
   * Due entries handled per tick at most (the rest go in the next tick, at once).
   * @defaultValue 1000
   */
  batchSize?: number;
}

export interface ResolvedBeatOptions {
  /** The store URL, or null when the setup has none (an error only when one is needed). */
  store: string | null;
  /** Whether the store is the broker's own Redis, so the send goes into the bookkeeping script. */
  storeIsBroker: boolean;
  leaseMs: number;
  renewMs: number;
  maxTickMs: number;
  skipGraceMs: number;
  batchSize: number;
  /** Entries declared in code (module `beatSchedule`). */
  schedule: Record<string, BeatEntry>;
}
