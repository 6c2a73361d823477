import { TaskQueueError } from './task-queue.error';

/**
 * The remote task failed (or was revoked). Carries the remote exception as Celery stores it, so that
 * an error raised in Python reads the same as one raised in Node.
 */
export class TaskFailedError extends TaskQueueError {
  constructor(
    readonly taskId: string,
    /** Remote exception class name, e.g. `ValueError`. */
    readonly excType: string,
    /** Remote exception arguments (Python's `exc.args`). */
    readonly excMessage: unknown[],
    /** Remote module of the exception class, e.g. `builtins`. */
    readonly excModule: string | null,
    /** Remote traceback text, when the worker stored one. */
    readonly traceback: string | null,
    /** The state the task ended in: FAILURE or REVOKED. */
    readonly state: string,
  ) {
    super(
      `Task ${taskId} ${state === 'REVOKED' ? 'was revoked' : 'failed'}: ${excType}: ${excMessage.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(', ')}`,
    );
  }
}
