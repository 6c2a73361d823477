import { TaskQueueError } from './task-queue.error';

/** The module's options cannot work: an unknown URL scheme, a missing driver, a bad value. */
export class ConfigurationError extends TaskQueueError {}
