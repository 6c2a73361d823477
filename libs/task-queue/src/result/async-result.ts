import { ResultBackend } from '../backends/result-backend.interface';
import type { TaskControl } from '../control/task-control';
import type { ResultHandle } from './result-handle';
import { TaskFailedError, TaskTimeoutError } from '../errors';
import { ResultMeta, dateDoneOf, pendingMeta } from '../protocol/result-meta';
import { ExceptionInfo } from '../protocol/exception-info';
import { childId } from '../protocol/result-tuple';
import { EXCEPTION_STATES, PROPAGATE_STATES, READY_STATES, TaskState } from '../states';

export interface GetOptions {
  /** Milliseconds to wait for a ready state before TaskTimeoutError. Default: wait without limit (Celery's default). */
  timeout?: number;
  /** Throw TaskFailedError when the task failed or was revoked; false returns the exception info instead. Default true. */
  propagate?: boolean;
}

/**
 * The handle of a sent task (Celery's AsyncResult). Every accessor reads the backend afresh;
 * `get()` waits for the backend's push (Redis PUBLISH, an rpc reply, an in-process event), never polls.
 */
export class AsyncResult<T = unknown> implements ResultHandle {
  /** The previous step, when this result came from applying a chain or chord (Celery's `.parent`). */
  parent?: ResultHandle;

  constructor(
    readonly id: string,
    private readonly backend: ResultBackend,
    private readonly control?: TaskControl,
  ) {}

  /** Revokes this task on every worker; with `terminate`, a running one is aborted. */
  async revoke(options: { terminate?: boolean } = {}): Promise<void> {
    if (!this.control)
      throw new TypeError('This AsyncResult was built without remote control; get it from TaskClient.');
    await this.control.revoke(this.id, options);
  }

  /** The full stored meta (PENDING when nothing is stored). */
  async meta(): Promise<ResultMeta> {
    return (await this.backend.get(this.id)) ?? pendingMeta(this.id);
  }

  /** PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED, or a custom state. */
  async state(): Promise<TaskState> {
    return (await this.meta()).status;
  }

  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.state());
  }

  async successful(): Promise<boolean> {
    return (await this.state()) === TaskState.SUCCESS;
  }

  async failed(): Promise<boolean> {
    return (await this.state()) === TaskState.FAILURE;
  }

  /** The result when SUCCESS, the exception info when failed, the custom meta of a custom state. */
  async info(): Promise<unknown> {
    return (await this.meta()).result;
  }

  async traceback(): Promise<string | null> {
    return (await this.meta()).traceback;
  }

  async dateDone(): Promise<Date | null> {
    return dateDoneOf(await this.meta());
  }

  /**
   * Waits until the task is ready and returns its result, or throws TaskFailedError carrying the
   * remote exception's type, message and traceback, or TaskTimeoutError after `timeout` ms.
   */
  async get(options: GetOptions = {}): Promise<T> {
    return this.getOnceSent(undefined, options);
  }

  /**
   * `get()` for a task whose message is still on its way (`client.delay(...).get()`): the wait is
   * subscribed while the message is published, instead of after, and a failed send rejects it.
   * @internal
   */
  async getOnceSent(sent: Promise<unknown> | undefined, options: GetOptions = {}): Promise<T> {
    const meta = await this.waitReady(options.timeout, sent);
    if (PROPAGATE_STATES.has(meta.status) && options.propagate !== false) throw failedError(meta);
    return meta.result as T;
  }

  /** Results of the tasks this one sent (chain steps, callbacks), as stored in its meta (Celery's `children`). */
  async children(): Promise<string[]> {
    const meta = await this.meta();
    return (meta.children ?? []).map(childId);
  }

  /** Deletes the stored result. */
  async forget(): Promise<void> {
    await this.backend.forget(this.id);
  }

  /** Resolves with the first ready meta. Subscribes before reading, so no state can slip between. */
  private async waitReady(timeout?: number, sent?: Promise<unknown>): Promise<ResultMeta> {
    let settle!: (m: ResultMeta) => void;
    const pushed = new Promise<ResultMeta>((resolve) => (settle = resolve));
    let last: string = TaskState.PENDING;
    const unsubscribe = await this.backend.subscribe(this.id, (m) => {
      last = m.status;
      if (READY_STATES.has(m.status)) settle(m);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      if (sent) await sent;
      // Whichever comes first: the stored state, or a ready state pushed while the read is on its way.
      const current = await Promise.race([this.backend.get(this.id), pushed]);
      if (current) {
        last = current.status;
        if (READY_STATES.has(current.status)) return current;
      }
      if (timeout === undefined) return await pushed;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TaskTimeoutError(this.id, timeout, last)), timeout);
      });
      return await Promise.race([pushed, timedOut]);
    } finally {
      if (timer) clearTimeout(timer);
      unsubscribe();
    }
  }
}

function failedError(meta: ResultMeta): TaskFailedError {
  const exc = (EXCEPTION_STATES.has(meta.status) ? meta.result : null) as Partial<ExceptionInfo> | null;
  const message = exc?.exc_message;
  return new TaskFailedError(
    meta.task_id,
    exc?.exc_type ?? 'Exception',
    Array.isArray(message) ? message : message === undefined ? [] : [message],
    exc?.exc_module ?? null,
    meta.traceback,
    meta.status,
  );
}
