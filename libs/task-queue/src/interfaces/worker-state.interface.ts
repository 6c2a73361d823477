import type { TaskRequest } from '../protocol/task-message';
import type { TaskExecutionOptions } from '../options/shared-task-options';

/** One task the worker holds, as remote control reports it. */
export interface JobView {
  request: TaskRequest;
  routingKey: string;
  startedAt: number | null;
}

/**
 * What remote control reads from and asks of a running worker (Celery's `worker/state.py`): a narrow
 * view, so `control/` never imports the worker's dispatcher and the arrow runs worker → control only.
 */
export interface WorkerState {
  /** The tasks running, waiting for a slot, and waiting for their eta. */
  snapshot(): { active: JobView[]; reserved: JobView[]; scheduled: JobView[] };
  /** Tasks run so far, by name. */
  processedByTask(): Record<string, number>;
  /** The revoked ids this worker keeps, with the time each was revoked (seconds since the epoch). */
  readonly revoked: { ids(): string[]; toJSON(): Record<string, number> };
  /** Revokes ids here; `terminate` abandons those running. */
  revoke(ids: string[], terminate: boolean): void;
  /** Changes a task's options at run time (`rate_limit`, `time_limit` commands). */
  setTaskOptions(taskName: string, patch: Partial<TaskExecutionOptions>): void;
  /** The queues consumed now (`active_queues`). */
  queues(): readonly string[];
  /** Starts consuming a queue (`add_consumer`); resolves once it is consumed. */
  addQueue(queue: string): Promise<void>;
  /** Stops consuming a queue (`cancel_consumer`); what waits there stays. */
  cancelQueue(queue: string): Promise<void>;
  /** The concurrency slots now and the prefetch bound that follows them (`stats`). */
  pool(): { size: number; prefetch: number };
  /** Sets the number of slots (`pool_grow`, `pool_shrink`) and the prefetch with it. */
  resizePool(slots: number): Promise<void>;
  /** The autoscaler when `worker.autoscale` is set, else null (`autoscale` then answers an error). */
  readonly autoscaler: WorkerAutoscaler | null;
}

/** What the `autoscale` command may ask of the autoscaler. */
export interface WorkerAutoscaler {
  /** New bounds (null keeps one); resolves to the bounds now. Throws RangeError on bad ones. */
  update(max: number | null, min: number | null): { max: number; min: number };
  /** Celery's `Autoscaler.info()`: bounds, slots now, tasks held. */
  info(): { max: number; min: number; current: number; qty: number };
}
