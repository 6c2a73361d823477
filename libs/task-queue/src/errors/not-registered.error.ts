import { TaskQueueError } from './task-queue.error';

/** A message names a task this process does not know (Celery's NotRegistered). */
export class NotRegisteredError extends TaskQueueError {
  constructor(readonly taskName: string) {
    super(
      `Task "${taskName}" is not registered here. Register it with @SharedTask('${taskName}'), or route it to a queue whose workers have it.`,
    );
  }
}
