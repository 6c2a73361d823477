import { logEnabled } from './log-level';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Delivery } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import {
  Ignore,
  Reject,
  RetryError,
  SoftTimeLimitExceededError,
  TaskRevokedError,
  TimeLimitExceededError,
  WorkerLostError,
} from '../errors';
import { TASK_QUEUE_CONFIG, TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskRequest, buildRetryMessage } from '../protocol/task-message';
import { ResultMeta, metaExtra, readyMeta, startedResult, stateMeta } from '../protocol/result-meta';
import { excRepr, exceptionInfo, notRegisteredInfo, tracebackOf } from '../protocol/exception-info';
import { repr } from '../protocol/py-repr';
import { TaskState } from '../states';
import { TaskDefinition } from '../registry/task-definition';
import { toCallArgs } from './call-args';
import { TaskContext, TaskRequestInfo } from '../context/task-context';
import { TaskContextHost } from '../context/task-context.host';
import { TaskEvents } from '../events/task.events';
import { ResolvedTaskOptions } from './task-options';
import { autoretryCountdown, shouldAutoretry } from './retry-policy';
import { Workflow } from '../canvas/workflow';
import { TaskPublisher } from '../publish/task.publisher';
import { LongTimer, setLongTimeout } from './long-timer';
import { CPU_TASK_RUNNER, CpuTaskRunner } from './cpu-task.runner';

/** What to do with the delivery once a run is over (`settled`: nothing, it was acked with its result). */
export type Settlement =
  { kind: 'ack' } | { kind: 'settled' } | { kind: 'requeue' } | { kind: 'deadLetter'; reason: string };

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const ACK: Settlement = { kind: 'ack' };
const SETTLED: Settlement = { kind: 'settled' };

/**
 * Runs one task on its provider, with its context, time limits, retries and hooks, and stores what
 * happened in Celery's meta format. A failing task is a FAILURE state, not an error of the worker;
 * `execute` rejects only when a state or a retry message cannot be written (the broker or backend is
 * down), and the caller then gives the message back.
 */
@Injectable()
export class TaskExecutor {
  private readonly logger = new Logger('TaskQueueWorker');
  /** Running tasks by id, to abandon them (hard time limit, revoke with terminate). */
  private readonly abandon = new Map<string, (error: Error) => void>();

  constructor(
    @Inject(TASK_QUEUE_RESULT_BACKEND) private readonly backend: ResultBackend,
    private readonly publisher: TaskPublisher,
    @Inject(TASK_QUEUE_CONFIG) private readonly config: ResolvedTaskQueueOptions,
    private readonly events: TaskEvents,
    private readonly host: TaskContextHost,
    private readonly workflow: Workflow,
    @Optional() @Inject(CPU_TASK_RUNNER) private readonly cpu?: CpuTaskRunner,
  ) {}

  /** Abandons a running task: its signal aborts with TaskRevokedError('terminated') and it is stored REVOKED. */
  terminate(taskId: string): boolean {
    const stop = this.abandon.get(taskId);
    stop?.(new TaskRevokedError('terminated'));
    return Boolean(stop);
  }

  /**
   * `bodyDone` is called as soon as the task's method has settled (before its state is stored):
   * the worker frees the concurrency slot there, so storing, acking and workflow steps overlap the
   * next task's body instead of idling the slot for a round trip.
   */
  async execute(
    req: TaskRequest,
    def: TaskDefinition,
    delivery: Delivery,
    options: ResolvedTaskOptions,
    bodyDone?: () => void,
  ): Promise<Settlement> {
    const hard = req.timeLimit[0] ?? options.timeLimit ?? null;
    const soft = req.timeLimit[1] ?? options.softTimeLimit ?? null;
    const ctx = new TaskContext(
      () => this.requestInfo(req, delivery, [hard, soft]),
      options,
      (state, meta) => this.store(req, stateMeta(req.id, state, meta, null, this.extra(req))),
    );
    const ignoreResult = req.ignoreResult === true || options.ignoreResult;

    if (options.trackStarted && !ignoreResult) {
      await this.store(
        req,
        stateMeta(
          req.id,
          TaskState.STARTED,
          startedResult(process.pid, this.config.worker.hostname),
          null,
          this.extra(req),
        ),
      );
    }
    this.events.emitLazy('started', () => ({ type: 'started', request: ctx.request }));
    const started = performance.now();
    const outcome = await this.run(def, req, ctx, hard, soft, options);
    const runtime = (performance.now() - started) / 1000;
    bodyDone?.();
    const label = `${req.shadow ?? req.task}[${req.id}]`;

    if (outcome.ok) {
      // As Celery: the next steps are sent first, so that the stored result lists them as children.
      // The plain task (no callbacks, chain, chord or hook) takes no extra await: this is the hot path.
      const { callbacks, chain, chord } = req.embed;
      const children =
        callbacks?.length || chain?.length ? await this.workflow.afterSuccess(req, outcome.value ?? null) : [];
      let settled = false;
      if (!ignoreResult) {
        const meta = readyMeta(req.id, TaskState.SUCCESS, outcome.value ?? null, null, this.extra(req));
        meta.children = children;
        // Nothing of ours follows the store (no chord part, no hook): the ack may go with it.
        const both = chord || def.options.onSuccess ? null : this.backend.storeWithAck?.(meta, delivery);
        if (both) {
          await both;
          settled = true;
        } else await this.store(req, meta);
      }
      if (chord) await this.workflow.chordPart(req, TaskState.SUCCESS, outcome.value ?? null);
      if (logEnabled('log'))
        this.logger.log(`Task ${label} succeeded in ${runtime.toFixed(6)}s: ${repr(outcome.value)}`);
      if (def.options.onSuccess) await this.hook('onSuccess', def, outcome.value, ctx);
      this.events.emitLazy('succeeded', () => ({
        type: 'succeeded',
        request: ctx.request,
        result: outcome.value,
        runtime,
      }));
      return settled ? SETTLED : ACK;
    }

    const error = outcome.error;
    if (error instanceof Ignore) {
      this.logger.log(`Task ${label} ignored: ${error.message}`);
      return ACK;
    }
    if (error instanceof Reject) {
      this.logger.warn(`Task ${label} rejected (${error.requeue ? 'requeued' : 'dead-lettered'}): ${error.message}`);
      this.events.emit({ type: 'rejected', request: ctx.request, error, reason: error.message });
      return error.requeue
        ? { kind: 'requeue' }
        : { kind: 'deadLetter', reason: `Rejected by the task: ${error.message}` };
    }
    if (error instanceof TaskRevokedError) {
      await this.discard(req, delivery, error.reason);
      return ACK;
    }
    if (error instanceof RetryError) return this.retry(req, def, delivery, ctx, error.eta, error.exc ?? error);
    if (!(error instanceof TimeLimitExceededError) && shouldAutoretry(error, options)) {
      const max = options.maxRetries;
      if (max === null || req.retries < max) {
        const eta = new Date(Date.now() + autoretryCountdown(req.retries, options) * 1000);
        return this.retry(req, def, delivery, ctx, eta, error);
      }
    }

    const exc = exceptionInfo(error);
    const traceback = error instanceof TimeLimitExceededError ? null : tracebackOf(error);
    if (!ignoreResult || options.storeErrorsEvenIfIgnored) {
      await this.store(req, readyMeta(req.id, TaskState.FAILURE, exc, traceback, this.extra(req)));
    }
    this.logger.error(`Task ${label} raised unexpected: ${excRepr(exc)}`, traceback ?? undefined);
    await this.workflow.afterFailure(req, exc, traceback);
    await this.workflow.chordPart(req, TaskState.FAILURE, exc);
    await this.hook('onFailure', def, error, ctx);
    this.events.emit({ type: 'failed', request: ctx.request, error, runtime });
    // A message that already killed a pool worker once goes to the dead-letter place (rejectOnWorkerLost).
    return error instanceof WorkerLostError && error.deadLetter ? { kind: 'deadLetter', reason: error.message } : ACK;
  }

  /**
   * A task that will not run (revoked, expired) or was terminated: REVOKED with Celery's reason,
   * and its workflow is told, so a chain or chord around it never waits forever.
   */
  async discard(req: TaskRequest, delivery: Delivery, reason: 'revoked' | 'expired' | 'terminated'): Promise<void> {
    const exc = exceptionInfo(new TaskRevokedError(reason));
    await this.store(req, readyMeta(req.id, TaskState.REVOKED, exc, null, this.extra(req)));
    if (reason === 'expired')
      this.logger.warn(`Discarding expired task ${req.task}[${req.id}]: it expired at ${req.expires?.toISOString()}.`);
    else this.logger.warn(`Task ${req.task}[${req.id}] ${reason === 'revoked' ? 'discarded: revoked' : 'terminated'}.`);
    await this.workflow.afterRevoke(req, exc);
    await this.workflow.chordPart(req, TaskState.REVOKED, exc);
    this.events.emitLazy('revoked', () => ({ type: 'revoked', request: this.requestInfo(req, delivery), reason }));
  }

  /** A message for a task this worker does not know: FAILURE with Celery's NotRegistered (the dispatcher dead-letters it). */
  async storeNotRegistered(req: TaskRequest): Promise<void> {
    await this.store(req, readyMeta(req.id, TaskState.FAILURE, notRegisteredInfo(req.task), null));
  }

  /** Runs the method; the hard time limit and terminate abandon it (its promise is left to settle alone). */
  private run(
    def: TaskDefinition,
    req: TaskRequest,
    ctx: TaskContext,
    hard: number | null,
    soft: number | null,
    options: ResolvedTaskOptions,
  ): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const timers: LongTimer[] = [];
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        for (const t of timers) t.clear();
        this.abandon.delete(req.id);
        resolve(o);
      };
      const stop = (error: Error) => {
        ctx.abort(error);
        finish({ ok: false, error });
      };
      this.abandon.set(req.id, stop);
      const startClocks = () => {
        if (done) return;
        if (soft) timers.push(setLongTimeout(() => ctx.abort(new SoftTimeLimitExceededError(soft)), soft * 1000));
        if (hard) timers.push(setLongTimeout(() => stop(new TimeLimitExceededError(hard)), hard * 1000));
      };
      Promise.resolve()
        // CPU-bound tasks run in the pool (pool/): the one place where a task leaves the event loop.
        // Their time limits start when a pool worker takes them, as in Celery's prefork pool.
        .then(() =>
          def.options.cpu && this.cpu
            ? this.cpu.run(def.name, req, ctx, options, startClocks)
            : (startClocks(), this.host.run(ctx, () => def.invoke(toCallArgs(def, req.args, req.kwargs, ctx)))),
        )
        .then(
          (value) => finish({ ok: true, value }),
          (error: unknown) => finish({ ok: false, error }),
        );
    });
  }

  /**
   * Stores RETRY, publishes the next run (same id, retries + 1, eta), then the old message is acked.
   * RETRY goes first so that a fast next run's SUCCESS can never be followed by a stale RETRY.
   */
  private async retry(
    req: TaskRequest,
    def: TaskDefinition,
    delivery: Delivery,
    ctx: TaskContext,
    eta: Date,
    cause: unknown,
  ): Promise<Settlement> {
    const exc = exceptionInfo(cause);
    await this.store(req, stateMeta(req.id, TaskState.RETRY, exc, tracebackOf(cause), this.extra(req)));
    await this.publisher.publishRetry(delivery.queue, buildRetryMessage(req, eta, this.config.worker.hostname), eta);
    const seconds = Math.max(0, Math.round((eta.getTime() - Date.now()) / 1000));
    this.logger.log(`Task ${req.task}[${req.id}] retry: Retry in ${seconds}s: ${excRepr(exc)}`);
    await this.hook('onRetry', def, cause, ctx);
    this.events.emit({ type: 'retried', request: ctx.request, error: cause });
    return ACK;
  }

  private async hook(
    name: 'onSuccess' | 'onFailure' | 'onRetry',
    def: TaskDefinition,
    value: unknown,
    ctx: TaskContext,
  ): Promise<void> {
    const fn = def.options[name];
    if (!fn) return;
    try {
      await fn.call(def.instance, value, ctx);
    } catch (err) {
      this.logger.error(`The ${name} hook of ${def.name}[${ctx.request.id}] failed: ${(err as Error).message}`);
    }
  }

  private store(req: TaskRequest, meta: ResultMeta): Promise<void> {
    return this.backend.store(meta, { replyTo: req.replyTo, correlationId: req.correlationId });
  }

  private extra(req: TaskRequest): Partial<ResultMeta> {
    return metaExtra(req.group, req.parentId);
  }

  requestInfo(
    req: TaskRequest,
    delivery: Delivery,
    timeLimit: [number | null, number | null] = req.timeLimit,
  ): TaskRequestInfo {
    return {
      id: req.id,
      task: req.task,
      args: req.args,
      kwargs: req.kwargs,
      retries: req.retries,
      eta: req.eta,
      expires: req.expires,
      parentId: req.parentId,
      rootId: req.rootId,
      group: req.group,
      groupIndex: req.groupIndex,
      hostname: this.config.worker.hostname,
      origin: req.origin,
      timeLimit,
      deliveryInfo: {
        exchange: delivery.exchange,
        routingKey: delivery.routingKey,
        queue: delivery.queue,
        redelivered: delivery.redelivered,
        priority: req.priority,
      },
    };
  }
}
