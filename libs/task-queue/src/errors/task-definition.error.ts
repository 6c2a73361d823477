import { TaskQueueError } from './task-queue.error';

/** A @SharedTask method that cannot be registered as declared. Raised at boot. */
export class TaskDefinitionError extends TaskQueueError {}
