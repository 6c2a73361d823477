import { Delivery } from '../brokers/broker.interface';
import { TaskRequest } from '../protocol/task-message';
import { TaskDefinition } from '../registry/task-definition';
import { ResolvedTaskOptions } from './task-options';

/**
 * Waits shorter than this are held in worker memory; longer ones go back to the broker's delayed
 * store (when the transport has one), so that an ETA days away holds no slot and survives restarts.
 */
export const HOLD_IN_MEMORY_MS = 1000;

/** One delivered task, from intake until its message is settled. */
export interface Job {
  req: TaskRequest;
  def: TaskDefinition;
  options: ResolvedTaskOptions;
  delivery: Delivery;
  /** Already acked on receipt (acksLate false). */
  acked: boolean;
  /** When it started running (epoch seconds), for `inspect active`. */
  startedAt?: number;
}

/** What the dispatcher's parts share: whether the worker is stopping, and the revoked/expired check. */
export interface DispatchState {
  readonly stopping: boolean;
  /** Expired or revoked: never run; stored REVOKED, then acked. True when the job was discarded. */
  discardIfRevoked(job: Job): boolean;
}
