import { TaskQueueError } from './task-queue.error';

/** Two methods claim one task name. Raised at boot, naming both places. */
export class DuplicateTaskError extends TaskQueueError {
  constructor(
    readonly taskName: string,
    readonly first: string,
    readonly second: string,
  ) {
    super(
      `Task name "${taskName}" is declared twice: by ${first} and by ${second}. Give one of them another name with @SharedTask('other.name').`,
    );
  }
}
