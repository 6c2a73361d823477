import { MaxRetriesExceededError, RetryError } from '../errors';
import { TaskState } from '../states';

/** What a running task knows about its own request (Celery's `self.request`). */
/** The task's retry defaults a context needs (a slice of the resolved task options, kept structural so this file depends on no worker code). */
export interface ContextRetryDefaults {
  readonly maxRetries: number | null;
  readonly defaultRetryDelay: number;
}

export interface TaskRequestInfo {
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** How many times this task was retried before this run. */
  retries: number;
  eta: Date | null;
  expires: Date | null;
  parentId: string | null;
  rootId: string;
  group: string | null;
  groupIndex: number | null;
  /** The worker's node name, e.g. `celery@host`. */
  hostname: string;
  /** The sender's node name (`gen<pid>@host` for clients). */
  origin: string | null;
  /** [hard, soft] time limits in force for this run, in seconds. */
  timeLimit: [number | null, number | null];
  deliveryInfo: { exchange: string; routingKey: string; queue: string; redelivered: boolean; priority: number };
}

export interface RetryOptions {
  /** Seconds before the next run. Default: the task's `defaultRetryDelay` (180). */
  countdown?: number;
  /** Time of the next run (wins over countdown). */
  eta?: Date;
  /** The error that caused the retry: stored with RETRY, and thrown instead of MaxRetriesExceededError when no retry is left. */
  exc?: unknown;
  /** Override the task's maxRetries for this decision. */
  maxRetries?: number | null;
}

/**
 * The running task's handle: its request, its abort signal, and the ways to retry and report
 * progress. Get it with a `@CurrentTask() ctx: TaskContext` parameter, or from `TaskContextHost`.
 */
export class TaskContext {
  // Built on first use: most tasks never look at their request or signal, and both cost per task.
  private controller: AbortController | null = null;
  private abortReason: unknown = undefined;
  private info: TaskRequestInfo | null = null;

  constructor(
    private readonly describe: () => TaskRequestInfo,
    private readonly options: ContextRetryDefaults,
    private readonly storeState: (state: string, meta: unknown) => Promise<void>,
  ) {}

  /** The request (Celery's `self.request`). */
  get request(): TaskRequestInfo {
    return (this.info ??= this.describe());
  }

  /**
   * Aborted when the soft or hard time limit passes, or when the task is revoked with terminate.
   * Its `reason` says which (SoftTimeLimitExceededError, TimeLimitExceededError, TaskRevokedError).
   * Pass it to fetch(), timers and streams so that they stop with the task.
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Throws the abort reason (e.g. SoftTimeLimitExceededError) if the task was asked to stop. */
  throwIfAborted(): void {
    if (this.abortReason !== undefined) throw this.abortReason;
  }

  /** Asks the task to stop (the worker calls it at a time limit or on terminate). */
  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /**
   * Ends this run and schedules the next one (Celery's `self.retry()`): `throw ctx.retry(...)` or
   * just call it. When no retry is left it throws `exc` if given, else MaxRetriesExceededError.
   */
  retry(options: RetryOptions = {}): never {
    const max = options.maxRetries !== undefined ? options.maxRetries : this.options.maxRetries;
    if (max !== null && this.request.retries >= max) {
      if (options.exc !== undefined) throw options.exc;
      throw new MaxRetriesExceededError(this.request.task, this.request.id, max);
    }
    const eta = options.eta ?? new Date(Date.now() + (options.countdown ?? this.options.defaultRetryDelay) * 1000);
    throw new RetryError(eta, options.exc);
  }

  /**
   * Stores a state with metadata, e.g. `updateState('PROGRESS', { done: 40, total: 100 })`.
   * Readable with `AsyncResult.state()`/`info()` here and `AsyncResult.state`/`.info` in Python.
   */
  updateState(state: string, meta: unknown = null): Promise<void> {
    if (state === TaskState.SUCCESS || state === TaskState.FAILURE) {
      throw new TypeError(`updateState('${state}') is not allowed: return a value or throw to end the task.`);
    }
    return this.storeState(state, meta);
  }
}
