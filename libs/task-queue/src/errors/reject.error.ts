import { TaskQueueError } from './task-queue.error';

/**
 * Throw it from a task to refuse the message (Celery's `Reject`): with `requeue` it goes back to the
 * queue; without, it goes to the queue's dead-letter place. No state is stored.
 */
export class Reject extends TaskQueueError {
  constructor(
    readonly reason = 'rejected by the task',
    readonly requeue = false,
  ) {
    super(reason);
  }
}

/** Throw it from a task to end it without storing any state (Celery's `Ignore`). The message is acked. */
export class Ignore extends TaskQueueError {
  constructor(reason = 'ignored by the task') {
    super(reason);
  }
}
