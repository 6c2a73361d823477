import { TaskQueueError } from './task-queue.error';

/** A chord's body cannot run: a header part failed, or the chord timed out (Celery's ChordError). */
export class ChordError extends TaskQueueError {
  readonly excModule = 'celery.exceptions';
}
