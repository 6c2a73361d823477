/**
 * Task states, as Celery names and stores them (celery/states.py). Written down once, here.
 *
 * PENDING is never stored: it is what an unknown id reads as. RECEIVED is not stored by default.
 * STARTED is stored only when the task has `trackStarted`.
 */
export const TaskState = {
  PENDING: 'PENDING',
  RECEIVED: 'RECEIVED',
  STARTED: 'STARTED',
  SUCCESS: 'SUCCESS',
  FAILURE: 'FAILURE',
  RETRY: 'RETRY',
  REVOKED: 'REVOKED',
} as const;

/** A built-in state, or a custom one such as `PROGRESS` set with `updateState`. */
export type TaskState = (typeof TaskState)[keyof typeof TaskState] | (string & {});

/** States after which the result will not change. */
export const READY_STATES: ReadonlySet<string> = new Set([TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED]);
/** States whose result is an exception. */
export const EXCEPTION_STATES: ReadonlySet<string> = new Set([TaskState.FAILURE, TaskState.RETRY, TaskState.REVOKED]);
/** States whose exception `get()` re-throws. */
export const PROPAGATE_STATES: ReadonlySet<string> = new Set([TaskState.FAILURE, TaskState.REVOKED]);
