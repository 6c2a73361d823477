import { TaskQueueError } from './task-queue.error';

/** A value that JSON cannot carry faithfully (BigInt, function, symbol, cycle, NaN, Infinity). */
export class SerializationError extends TaskQueueError {}
