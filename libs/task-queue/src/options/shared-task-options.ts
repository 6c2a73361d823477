import type { TaskContext } from '../context/task-context';

/** An error class, for `autoretryFor` / `dontAutoretryFor`. */
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Options of one task, set with @SharedTask. Celery's task attributes in camelCase, [in brackets].
 * Execution options left unset fall back to the module's `taskDefaults`, then to the default shown.
 */
export interface SharedTaskOptions extends TaskExecutionOptions {
  /**
   * Registered name: what messages carry in the `task` header. Default `<ClassName>.<methodName>`. [name]
   * @defaultValue `<ClassName>.<methodName>`
   */
  name?: string;
  /**
   * Queue its messages go to when the caller names none. Default: the module's `defaultQueue`. [queue]
   * @defaultValue the module's `defaultQueue`
   */
  queue?: string;
  /**
   * Parameter names, in order, used to map Celery kwargs onto the method's positional parameters.
   * Default: read from the method's own source. Set it when the method is minified or takes a rest parameter.
   * @defaultValue read from the method's own source
   */
  argNames?: string[];
  /**
   * CPU-bound: run it in the worker's pool (a thread or a child process, see `worker.pool`), not on
   * the event loop, so that a long computation never blocks remote control, heartbeats or other
   * tasks, and a hard time limit can really stop it. See docs/cpu-tasks.md.
   * @defaultValue false
   */
  cpu?: boolean;
  /**
   * Called (with `this` = the provider) after the task succeeded. [on_success]
   * @defaultValue none
   */
  onSuccess?: (this: any, result: unknown, ctx: TaskContext) => unknown;
  /**
   * Called after the task failed for good (no retry left). [on_failure]
   * @defaultValue none
   */
  onFailure?: (this: any, error: unknown, ctx: TaskContext) => unknown;
  /**
   * Called when the task is about to be retried. [on_retry]
   * @defaultValue none
   */
  onRetry?: (this: any, error: unknown, ctx: TaskContext) => unknown;
}

/** Options that can also be set for every task at once, through the module's `taskDefaults`. */
export interface TaskExecutionOptions {
  /**
   * Do not store its result (states are still logged). Default false. [ignore_result]
   * @defaultValue false
   */
  ignoreResult?: boolean;
  /**
   * With ignoreResult, still store failures. Default false. [store_errors_even_if_ignored]
   * @defaultValue false
   */
  storeErrorsEvenIfIgnored?: boolean;
  /**
   * Store STARTED when it starts. Default false. [track_started]
   * @defaultValue false
   */
  trackStarted?: boolean;
  /**
   * Retries allowed after the first run; null for no limit. Default 3. [max_retries]
   * @defaultValue 3
   */
  maxRetries?: number | null;
  /**
   * Seconds before a retry when none is given. Default 180. [default_retry_delay]
   * @defaultValue 180
   */
  defaultRetryDelay?: number;
  /**
   * Errors that retry the task by themselves. Default none. [autoretry_for]
   * @defaultValue none
   */
  autoretryFor?: ErrorClass[];
  /**
   * Errors that never retry by themselves, even if they match autoretryFor. Default none. [dont_autoretry_for]
   * @defaultValue none
   */
  dontAutoretryFor?: ErrorClass[];
  /**
   * Exponential backoff for automatic retries: `true` is a 1 s base, a number is the base in seconds. Default false. [retry_backoff]
   * @defaultValue false
   */
  retryBackoff?: boolean | number;
  /**
   * Longest automatic-retry delay, in seconds. Default 600. [retry_backoff_max]
   * @defaultValue 600
   */
  retryBackoffMax?: number;
  /**
   * Randomize backoff delays over [0, delay] to spread retries out. Default true. [retry_jitter]
   * @defaultValue true
   */
  retryJitter?: boolean;
  /**
   * Hard time limit in seconds: past it the task is abandoned and stored as FAILURE TimeLimitExceeded. Default none. [time_limit]
   * @defaultValue none
   */
  timeLimit?: number;
  /**
   * Soft time limit in seconds: past it the task's AbortSignal fires with SoftTimeLimitExceeded. Default none. [soft_time_limit]
   * @defaultValue none
   */
  softTimeLimit?: number;
  /**
   * At most this many starts per worker: `'10/s'`, `'100/m'`, `'1000/h'`, or a number per second. Default none. [rate_limit]
   * @defaultValue none
   */
  rateLimit?: string | number;
  /**
   * At most this many starts across ALL workers, counted in the broker (Redis, memory; not RabbitMQ,
   * which has no shared counter: the worker refuses to start). Same syntax as rateLimit. Celery has no
   * equivalent. Default none.
   * @defaultValue none
   */
  globalRateLimit?: string | number;
  /**
   * Acknowledge the message after the task ran and its state was stored (at-least-once: a worker
   * that dies mid-task loses nothing). `false` acks on receipt, as Celery does by default
   * (at-most-once: a worker that dies mid-task loses it). Default true. [acks_late]
   * @defaultValue true
   */
  acksLate?: boolean;
  /**
   * With acksLate, when the worker process is lost mid-task, give the message back rather than
   * ack it. Our workers run tasks in-process, so a lost worker never acks: the message always
   * comes back. Accepted for Celery parity. Default true. [reject_on_worker_lost]
   * @defaultValue true
   */
  rejectOnWorkerLost?: boolean;
}
