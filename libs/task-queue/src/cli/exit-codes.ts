import { TaskState } from '../states';

/**
 * Exit codes of `taskq call --wait` and `taskq result`, so a shell script can branch on the outcome
 * without parsing JSON. Any other error (bad flag, broker down) exits 1 as well, with a message on stderr.
 */
export const TASKQ_EXIT = {
  /** The task succeeded (or, without --wait, the state printed is not a failure). */
  success: 0,
  /** The task failed (FAILURE). */
  failure: 1,
  /** The task was revoked, expired or terminated (REVOKED). */
  revoked: 2,
  /** --wait ran out before the task was ready; it may still finish. */
  timeout: 3,
} as const;

/** The exit code for a state read from the backend: FAILURE 1, REVOKED 2, anything else 0. */
export function exitCodeOfState(state: string): number {
  if (state === TaskState.FAILURE) return TASKQ_EXIT.failure;
  if (state === TaskState.REVOKED) return TASKQ_EXIT.revoked;
  return TASKQ_EXIT.success;
}

/** The lines appended to `--help` of the commands that use these codes. */
export const EXIT_CODES_HELP = `
Exit codes: 0 SUCCESS, 1 FAILURE (or an error), 2 REVOKED, 3 --wait timed out (the task may still finish).`;
