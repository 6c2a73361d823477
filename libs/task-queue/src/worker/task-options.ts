import { SharedTaskOptions, TaskExecutionOptions } from '../options/shared-task-options';
import { TASK_EXECUTION_DEFAULTS } from '../options/task-queue.defaults';

/** Execution options with every default applied, for one task. */
type Unset = 'timeLimit' | 'softTimeLimit' | 'rateLimit' | 'globalRateLimit';
export type ResolvedTaskOptions = Required<Omit<TaskExecutionOptions, Unset>> & Pick<TaskExecutionOptions, Unset>;

/** Celery's defaults (task-queue.defaults.ts), typed for the worker. */
export const TASK_DEFAULTS: ResolvedTaskOptions = TASK_EXECUTION_DEFAULTS;

const EXECUTION_KEYS = [...Object.keys(TASK_DEFAULTS), 'timeLimit', 'softTimeLimit', 'rateLimit', 'globalRateLimit'];

/** The task's own options over the module's taskDefaults over Celery's defaults. */
export function resolveTaskOptions(
  task: SharedTaskOptions,
  moduleDefaults: TaskExecutionOptions,
  trackStarted: boolean,
): ResolvedTaskOptions {
  const out: Record<string, unknown> = { ...TASK_DEFAULTS, trackStarted };
  for (const source of [moduleDefaults, task] as Record<string, unknown>[]) {
    for (const key of EXECUTION_KEYS) if (source[key] !== undefined) out[key] = source[key];
  }
  return out as ResolvedTaskOptions;
}
