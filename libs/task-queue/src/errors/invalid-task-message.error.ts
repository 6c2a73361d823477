import { TaskQueueError } from './task-queue.error';

/** A delivery that is not a valid Celery task message. The worker dead-letters it and goes on. */
export class InvalidTaskMessageError extends TaskQueueError {}
