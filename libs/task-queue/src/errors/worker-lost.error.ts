import { TaskQueueError } from './task-queue.error';

/**
 * The pool worker running the task died before the task ended (Celery's WorkerLostError). The
 * message says why: exit code, signal, out of memory. `deadLetter` is set when the message has
 * already been given back once for the same reason, so that it goes to the dead-letter place
 * instead of killing worker after worker.
 */
export class WorkerLostError extends TaskQueueError {
  readonly excType = 'WorkerLostError';
  readonly excModule = 'billiard.exceptions';
  constructor(
    message: string,
    readonly deadLetter = false,
  ) {
    super(message);
    this.excMessage = [message];
    // Where the main thread noticed the loss says nothing about the task: the message is the story.
    this.stack = `${this.name}: ${message}`;
  }
  readonly excMessage: unknown[];
}
