import { TaskQueueError } from './task-queue.error';

/**
 * Thrown by `ctx.retry()` to end the current run and schedule the next one (Celery's `Retry`).
 * The worker catches it; a task never sees it unless it catches everything (then rethrow it).
 */
export class RetryError extends TaskQueueError {
  constructor(
    /** When the next run may start. */
    readonly eta: Date,
    /** The error that caused the retry, stored with the RETRY state. */
    readonly exc?: unknown,
  ) {
    super(
      `Retry in ${Math.max(0, Math.round((eta.getTime() - Date.now()) / 1000))}s${exc instanceof Error ? `: ${exc.message}` : ''}`,
    );
  }
}
