import { TaskQueueError } from './task-queue.error';

/** The broker or result backend did not answer within the documented bound. */
export class BrokerUnavailableError extends TaskQueueError {}
