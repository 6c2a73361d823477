import { Inject, Injectable, Type } from '@nestjs/common';
import { ResultBackend } from '../backends/result-backend.interface';
import { ORIGIN, SendOptions, TaskMessage, buildTaskMessage } from '../protocol/task-message';
import { TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { TaskControl } from '../control/task-control';
import { Signature, SignatureOptions, chain, chord, group } from '../canvas/signature';
import { CanvasPublisher, CanvasResult, ChordOptions } from '../canvas/canvas.publisher';
import { GroupResult } from '../result/group-result';
import { AsyncResult, GetOptions } from '../result/async-result';
import { TaskPublisher } from '../publish/task.publisher';
import { groupMemberIds } from '../protocol/result-tuple';
import { MethodKeys, TaskArgs, TaskRef, TaskResult, taskRef } from '../discovery/task-ref';

/** Options of one call: Celery's apply_async options, plus callbacks. */
export interface ApplyOptions extends SendOptions {
  /** Sent with this task's result when it succeeds (Celery's `link`). */
  link?: Signature | Signature[];
  /** Sent with this task's id when it fails (Celery's `link_error`). */
  linkError?: Signature | Signature[];
}

/**
 * What `delay`, `applyAsync` and `sendTask` return: a promise of the AsyncResult, resolved once the
 * broker holds the message, that also reads like Celery's `add.delay(2, 2).get()`:
 * `await client.delay(add, 2, 2).get()` subscribes to the result while the message is being sent
 * (as Celery's Redis backend does), where `(await client.delay(add, 2, 2)).get()` subscribes only
 * once the send is confirmed: one round trip less before the result can arrive.
 */
export type SentTask<T> = Promise<AsyncResult<T>> & {
  /** The task id, known before the message is sent. */
  readonly id: string;
  /** Waits for the result (AsyncResult.get); rejects with the send's error when the send fails. */
  get(options?: GetOptions): Promise<T>;
};

/** One call of `sendMany`. */
export interface ManyCall {
  args?: readonly unknown[];
  kwargs?: Record<string, unknown>;
}

/** A task bound to a client: `client.task(MathTasks, 'add').delay(2, 3)`. */
export interface BoundTask<R extends TaskRef> {
  readonly name: string;
  delay(...args: TaskArgs<R>): SentTask<TaskResult<R>>;
  applyAsync(args: TaskArgs<R>, kwargs?: Record<string, unknown>, options?: SendOptions): SentTask<TaskResult<R>>;
}

/**
 * Sends tasks and reads their results. Injectable anywhere the module is imported; it never consumes.
 *
 * Routing: `options.queue`, else the task's own queue (from @SharedTask, or a local task of the same
 * name), else `defaultQueue`.
 */
@Injectable()
export class TaskClient {
  constructor(
    @Inject(TASK_QUEUE_RESULT_BACKEND) private readonly backend: ResultBackend,
    private readonly control: TaskControl,
    private readonly publisher: TaskPublisher,
    private readonly canvas: CanvasPublisher,
  ) {}

  /** Sends a task with positional arguments (Celery's `task.delay(*args)`). */
  delay<R extends TaskRef>(ref: R, ...args: TaskArgs<R>): SentTask<TaskResult<R>> {
    return this.send(ref.name, args, {}, {}, ref.queue);
  }

  /** Sends a task with arguments, keyword arguments and options (Celery's `apply_async`). */
  applyAsync<R extends TaskRef>(
    ref: R,
    args: TaskArgs<R>,
    kwargs: Record<string, unknown> = {},
    options: ApplyOptions = {},
  ): SentTask<TaskResult<R>> {
    return this.send(ref.name, args, kwargs, options, ref.queue);
  }

  /**
   * Sends a task by name, for tasks this process does not define (another service, a Python worker).
   * Give the result type yourself: `sendTask<number>('py.add', [2, 3])`.
   */
  sendTask<T = unknown>(
    name: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: ApplyOptions = {},
  ): SentTask<T> {
    return this.send(name, args, kwargs, options, undefined);
  }

  /**
   * Sends many calls of one task at once (BullMQ's `addBulk`), each with its own arguments:
   * on Redis one round trip per 10,000 calls (a MULTI of multi-value LPUSHes), on RabbitMQ one stream of
   * publisher confirms. Resolves, in the order given, once the broker holds every message; on a
   * failure none is reported sent (some may be: sending again is at-least-once). `options` apply
   * to every call.
   *
   * @example const results = await client.delayMany(add, [[1, 2], [3, 4]]);
   */
  delayMany<R extends TaskRef>(
    ref: R,
    argsList: readonly TaskArgs<R>[],
    options: ApplyOptions = {},
  ): Promise<AsyncResult<TaskResult<R>>[]> {
    return this.sendBatch(
      ref.name,
      argsList.map((args) => ({ args })),
      options,
      ref.queue,
    );
  }

  /** `delayMany` by name, with positional and keyword arguments per call. */
  sendMany<T = unknown>(
    name: string,
    calls: readonly ManyCall[],
    options: ApplyOptions = {},
  ): Promise<AsyncResult<T>[]> {
    return this.sendBatch(name, calls, options, undefined);
  }

  /** A @SharedTask method bound to this client, typed from its signature. */
  task<T, K extends MethodKeys<T>>(cls: Type<T>, method: K) {
    const ref = taskRef(cls, method);
    return {
      name: ref.name,
      delay: (...args: TaskArgs<typeof ref>) => this.delay(ref, ...args),
      applyAsync: (args: TaskArgs<typeof ref>, kwargs?: Record<string, unknown>, options?: SendOptions) =>
        this.applyAsync(ref, args, kwargs, options),
    } satisfies BoundTask<typeof ref>;
  }

  /** The handle of a task sent earlier, by id. */
  asyncResult<T = unknown>(taskId: string): AsyncResult<T> {
    return new AsyncResult<T>(taskId, this.backend, this.control);
  }

  /** Revokes tasks on every worker, Python's included (Celery's `app.control.revoke`). */
  revoke(taskIds: string | string[], options: { terminate?: boolean } = {}): Promise<void> {
    return this.control.revoke(taskIds, options);
  }

  /** A signature of a task, to compose into chains, groups and chords or to pass as a callback. */
  signature<R extends TaskRef>(
    ref: R | string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: SignatureOptions = {},
  ): Signature {
    return Signature.of(ref, args, kwargs, options);
  }

  /** Applies any signature: a task, chain, group, chord or chunks (Celery's `sig.apply_async()`). */
  apply(sig: Signature, options: ChordOptions = {}): Promise<CanvasResult> {
    return this.canvas.apply(sig, {}, options);
  }

  /** Runs the tasks one after another, each getting the previous result first; resolves to the last step's result (`.parent` walks back). */
  async chain(...steps: Signature[]): Promise<CanvasResult> {
    return this.canvas.apply(chain(...steps));
  }

  /** Runs the tasks in parallel. */
  async group(...members: Signature[]): Promise<GroupResult> {
    return (await this.canvas.apply(group(...members))) as GroupResult;
  }

  /** Runs the header in parallel, then the body with the list of their results. Needs a Redis or memory result backend. */
  async chord(header: Signature[], body: Signature, options: ChordOptions = {}): Promise<AsyncResult> {
    return (await this.canvas.apply(chord(header, body), {}, options)) as AsyncResult;
  }

  /** A group saved with `GroupResult.save()`, by id (from any process, Python's too). */
  async restoreGroup(groupId: string): Promise<GroupResult | null> {
    const tuple = await this.backend.getGroup?.(groupId);
    if (!tuple) return null;
    const members = groupMemberIds(tuple).map((id) => new AsyncResult(id, this.backend, this.control));
    return new GroupResult(groupId, members, this.backend);
  }

  private async sendBatch<T>(
    name: string,
    calls: readonly ManyCall[],
    options: ApplyOptions,
    refQueue: string | undefined,
  ): Promise<AsyncResult<T>[]> {
    if (options.taskId !== undefined)
      throw new TypeError(
        `Task ${name}: taskId cannot be given to delayMany/sendMany (each call gets its own id); send that call alone with applyAsync.`,
      );
    const messages = calls.map((c) => this.message(name, c.args ?? [], c.kwargs ?? {}, options));
    await this.publisher.publishMany(
      this.publisher.queueFor(name, options.queue ?? refQueue),
      messages,
      options.delayIn,
    );
    return messages.map((m) => this.resultOf<T>(m));
  }

  private send<T>(
    name: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    options: ApplyOptions,
    refQueue: string | undefined,
  ): SentTask<T> {
    let result: AsyncResult<T> | undefined;
    let sent: Promise<AsyncResult<T>>;
    try {
      const message = this.message(name, args, kwargs, options);
      const handle = (result = this.resultOf<T>(message));
      sent = this.publisher
        .publish(this.publisher.queueFor(name, options.queue ?? refQueue), message, options.delayIn)
        .then(() => handle);
    } catch (err) {
      sent = Promise.reject(err as Error); // bad arguments or options: rejected as before, not thrown
    }
    return Object.assign(sent, {
      id: result?.id ?? '',
      get: (getOptions?: GetOptions) => {
        // The send's failure reaches the caller through get(); the promise itself may go unawaited.
        sent.catch(() => undefined);
        return result ? result.getOnceSent(sent, getOptions) : sent.then((r) => r.get(getOptions));
      },
    });
  }

  private message(
    name: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    options: ApplyOptions,
  ): TaskMessage {
    const embed = { callbacks: dicts(options.link), errbacks: dicts(options.linkError) };
    return buildTaskMessage(name, args, kwargs, options, { replyTo: this.backend.replyTo, origin: ORIGIN, embed });
  }

  private resultOf<T>(message: TaskMessage): AsyncResult<T> {
    return new AsyncResult<T>(message.headers.id as string, this.backend, this.control);
  }
}

function dicts(s: Signature | Signature[] | undefined) {
  if (!s) return null;
  return (Array.isArray(s) ? s : [s]).map((x) => x.toDict());
}
