import { SharedTaskOptions, TaskExecutionOptions } from '../interfaces/shared-task-options.interface';

/** Execution options with every default applied, for one task. */
type Unset = 'timeLimit' | 'softTimeLimit' | 'rateLimit' | 'globalRateLimit';
export type ResolvedTaskOptions = Required<Omit<TaskExecutionOptions, Unset>> & Pick<TaskExecutionOptions, Unset>;

/** Celery's defaults, in one place. */
export const TASK_DEFAULTS: ResolvedTaskOptions = {
  ignoreResult: false,
  storeErrorsEvenIfIgnored: false,
  trackStarted: false,
  maxRetries: 3,
  defaultRetryDelay: 180,
  autoretryFor: [],
  dontAutoretryFor: [],
  retryBackoff: false,
  retryBackoffMax: 600,
  retryJitter: true,
  acksLate: true,
  rejectOnWorkerLost: true,
};

const EXECUTION_KEYS = [...Object.keys(TASK_DEFAULTS), 'timeLimit', 'softTimeLimit', 'rateLimit', 'globalRateLimit'];

/** The task's own options over the module's taskDefaults over Celery's defaults. */
export function resolveTaskOptions(task: SharedTaskOptions, moduleDefaults: TaskExecutionOptions, trackStarted: boolean): ResolvedTaskOptions {
  const out: Record<string, unknown> = { ...TASK_DEFAULTS, trackStarted };
  for (const source of [moduleDefaults, task] as Record<string, unknown>[]) {
    for (const key of EXECUTION_KEYS) if (source[key] !== undefined) out[key] = source[key];
  }
  return out as ResolvedTaskOptions;
}
