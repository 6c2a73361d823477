import { WorkerPoolOptions } from './pool-options';

/** The worker's options; the pool's (for `cpu: true` tasks) are in pool-options.ts. */
export interface WorkerOptions extends WorkerPoolOptions {
  /**
   * Queues this worker consumes. Default `[defaultQueue]`. [-Q]
   * @defaultValue `[defaultQueue]`
   */
  queues?: string[];
  /**
   * Task methods run at once by this worker process (async tasks share one event loop). A slot is
   * freed when the method settles; storing its state, workflow steps, hooks and the ack follow
   * outside the slot, still bounded by the prefetch (with acksLate off, inside it). Default: the
   * number of CPUs × 4, at least 4. [worker_concurrency]
   * @defaultValue the number of CPUs × 4, at least 4
   */
  concurrency?: number;
  /**
   * Deliveries reserved per concurrency slot: the prefetch bound is concurrency × this. Default 4. [worker_prefetch_multiplier]
   * @defaultValue 4
   */
  prefetchMultiplier?: number;
  /**
   * Let the worker size its concurrency slots itself (Celery's `--autoscale=max,min`): it starts with
   * `min` slots, grows up to `max` while received tasks wait for a slot, and shrinks back towards
   * `min` once `keepalive` seconds have passed since it last grew and fewer tasks are held. The
   * prefetch follows the slots (slots × prefetchMultiplier). `concurrency` is then not used; the
   * `autoscale` remote-control command changes max and min at run time. Default null (off).
   * @defaultValue null (off); when set, `min` 0 and `keepalive` 30 (Celery's AUTOSCALE_KEEPALIVE)
   */
  autoscale?: AutoscaleOptions | null;
  /**
   * Node name shown to Celery's tools. Default `celery@<hostname>`. [-n]
   * @defaultValue `celery@<hostname>`
   */
  hostname?: string;
  /**
   * Seconds a warm shutdown waits for running tasks before it gives their messages back. Default 30.
   * @defaultValue 30
   */
  shutdownTimeout?: number;
  /**
   * Install SIGTERM/SIGINT handlers: first signal warm shutdown, second cold. Default true.
   * @defaultValue true
   */
  handleSignals?: boolean;
  /**
   * Send task-* monitoring events (worker-* events are always sent). Default false. [-E, worker_send_task_events]
   * @defaultValue false
   */
  sendTaskEvents?: boolean;
  /**
   * File where the revoked-task set is kept across restarts; empty keeps it in memory only. Default ''. [--statedb]
   * @defaultValue ''
   */
  stateDb?: string;
  /**
   * Run a periodic-task scheduler in this process (`celery worker -B`); safe on every replica, one leads. Default false.
   * @defaultValue false
   */
  beat?: boolean;
}

/** `worker.autoscale`: the bounds of the concurrency slots. */
export interface AutoscaleOptions {
  /** Most slots. */
  max: number;
  /**
   * Fewest slots, and the number the worker starts with. Default 0.
   * @defaultValue 0
   */
  min?: number;
  /**
   * Seconds after the last grow before the worker shrinks again. Default 30.
   * @defaultValue 30
   */
  keepalive?: number;
}
