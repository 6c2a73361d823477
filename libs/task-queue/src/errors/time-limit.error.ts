import { TaskQueueError } from './task-queue.error';

/**
 * The soft time limit passed. The task's AbortSignal is aborted with this error as its reason;
 * `ctx.throwIfAborted()` throws it, and a task may catch it to clean up (Celery's SoftTimeLimitExceeded).
 */
export class SoftTimeLimitExceededError extends TaskQueueError {
  readonly excType = 'SoftTimeLimitExceeded';
  readonly excModule = 'billiard.exceptions';
  constructor(readonly seconds: number) {
    super(`SoftTimeLimitExceeded: the task ran past its soft time limit of ${seconds}s.`);
    this.excMessage = [seconds];
  }
  readonly excMessage: unknown[];
}

/** The hard time limit passed: the worker abandoned the task and stored FAILURE (Celery's TimeLimitExceeded). */
export class TimeLimitExceededError extends TaskQueueError {
  readonly excType = 'TimeLimitExceeded';
  readonly excModule = 'billiard.exceptions';
  constructor(readonly seconds: number) {
    super(`TimeLimitExceeded: the task ran past its hard time limit of ${seconds}s and was abandoned.`);
    this.excMessage = [seconds];
  }
  readonly excMessage: unknown[];
}
