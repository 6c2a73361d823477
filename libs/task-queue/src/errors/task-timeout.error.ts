import { TaskQueueError } from './task-queue.error';

/** AsyncResult.get() did not see a ready state in time. The task may still run. */
export class TaskTimeoutError extends TaskQueueError {
  constructor(
    readonly taskId: string,
    readonly timeoutMs: number,
    readonly lastState: string,
  ) {
    super(
      `Task ${taskId} was not ready after ${timeoutMs} ms (last state ${lastState}). It may still finish: call get() again, or check that a worker consumes its queue.`,
    );
  }
}
