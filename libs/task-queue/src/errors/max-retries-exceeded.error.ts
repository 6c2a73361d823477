import { TaskQueueError } from './task-queue.error';

/** A task asked to retry after its last allowed retry (Celery's MaxRetriesExceededError). */
export class MaxRetriesExceededError extends TaskQueueError {
  readonly excModule = 'celery.exceptions';
  constructor(
    readonly taskName: string,
    readonly taskId: string,
    readonly maxRetries: number,
  ) {
    super(`Can't retry ${taskName}[${taskId}] args:…: it already retried ${maxRetries} time(s) (maxRetries).`);
  }
}
