import { logEnabled } from './log-level';
import { Logger } from '@nestjs/common';
import { Broker, Consumer, Delivery } from '../brokers/broker.interface';
import { InvalidTaskMessageError, NotRegisteredError } from '../errors';
import { TaskRequest, parseTaskMessage, peekTaskId } from '../protocol/task-message';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskRegistry } from '../registry/task.registry';
import { TaskDefinition } from '../registry/task-definition';
import { TaskExecutor } from './task.executor';
import { TaskEvents } from '../events/task.events';
import { RevokedSet } from './revoked.set';
import { ResolvedTaskOptions, resolveTaskOptions } from './task-options';
import type { JobView, WorkerState } from '../interfaces/worker-state.interface';
import { TaskAutoscaler } from './task.autoscaler';
import { DispatchState, Job } from './task-job';
import { TaskSlots } from './task.slots';
import { TaskWaits } from './task.waits';
import { TaskDrain } from './task.drain';

/**
 * Takes deliveries from the broker (intake) and hands each to its wait (ETA, rate limits,
 * `task.waits.ts`), its slot (`task.slots.ts`, at most `concurrency` at once) and, on stop, the
 * drain (`task.drain.ts`). The broker's prefetch bound (concurrency × prefetchMultiplier) caps what
 * waits here. By default the ack comes after the state is stored (acksLate), so a worker killed
 * mid-task loses nothing. Bad messages are dead-lettered with their reason, and the loop goes on.
 * States are written by the executor only.
 */
export class TaskDispatcher implements WorkerState, DispatchState {
  private readonly logger = new Logger('TaskQueueWorker');
  private consumer: Consumer | null = null;
  private readonly options = new Map<string, ResolvedTaskOptions>();
  private readonly slots: TaskSlots;
  private readonly waits: TaskWaits;
  private readonly stopper: TaskDrain;
  /** Queues to consume before start() (add_consumer may come first); then the consumer's list. */
  private readonly startQueues: string[];
  readonly autoscaler: TaskAutoscaler | null = null;
  stopping = false;

  constructor(
    private readonly broker: Broker,
    private readonly registry: TaskRegistry,
    private readonly executor: TaskExecutor,
    private readonly events: TaskEvents,
    readonly revoked: RevokedSet,
    private readonly config: ResolvedTaskQueueOptions,
  ) {
    const scale = config.worker.autoscale;
    this.slots = new TaskSlots(executor, this, scale ? scale.min : config.worker.concurrency, this.logger);
    this.waits = new TaskWaits(broker, this.slots, this, this.logger);
    this.stopper = new TaskDrain(this.slots, this.waits, revoked, this.logger);
    this.startQueues = [...config.worker.queues];
    if (scale) this.autoscaler = new TaskAutoscaler(this.scaledPool(), scale.max, scale.min, scale.keepalive * 1000);
  }

  private scaledPool(): { readonly size: number; readonly held: number; resize(n: number): void } {
    const slots = this.slots;
    return {
      get size() {
        return slots.size;
      },
      get held() {
        return slots.held;
      },
      resize: (n) =>
        void this.resizePool(n).catch((err: Error) =>
          this.logger.warn(`Autoscale could not change the prefetch: ${err.message}`),
        ),
    };
  }

  /** Tasks running now. */
  get active(): number {
    return this.slots.running.size;
  }

  /** Requests running now, received and waiting, and held until a time (Celery's active / reserved / scheduled). */
  snapshot(): { active: JobView[]; reserved: JobView[]; scheduled: JobView[] } {
    const view = (j: Job): JobView => ({
      request: j.req,
      routingKey: j.delivery.routingKey,
      startedAt: j.startedAt ?? null,
    });
    return {
      active: [...this.slots.running].map(view),
      reserved: this.slots.waiting.map(view),
      scheduled: [...this.waits.scheduled.values()].map(view),
    };
  }

  /** Messages handed back to the broker's delayed store so far (ETAs over a second, rate-limited starts). */
  get deferred(): number {
    return this.waits.deferredCount;
  }

  /** Tasks held in this worker's memory until a time (short waits only; longer ones wait in the broker). */
  get held(): number {
    return this.waits.scheduled.size;
  }

  /** Tasks run so far, by name (Celery's `stats.total`). */
  processedByTask(): Record<string, number> {
    return Object.fromEntries(this.slots.processed);
  }

  /** Tasks run so far. */
  get processedCount(): number {
    let n = 0;
    for (const v of this.slots.processed.values()) n += v;
    return n;
  }

  /** Changes a task's execution options in this worker (remote control: rate_limit, time_limit). */
  setTaskOptions(taskName: string, patch: Partial<ResolvedTaskOptions>): void {
    const def = this.registry.get(taskName);
    this.options.set(taskName, { ...this.optionsOf(def), ...patch });
  }

  async start(): Promise<void> {
    this.consumer = await this.broker.consume({ queues: this.startQueues, prefetch: this.pool().prefetch }, (d) =>
      this.onDelivery(d),
    );
    this.autoscaler?.start();
  }

  queues(): readonly string[] {
    return this.consumer?.queues ?? this.startQueues;
  }

  async addQueue(queue: string): Promise<void> {
    if (this.stopping) return;
    if (!this.consumer) {
      if (!this.startQueues.includes(queue)) this.startQueues.push(queue);
      return;
    }
    await this.consumer.addQueue(queue);
    this.logger.log(`Started consuming from ${queue}`);
  }

  async cancelQueue(queue: string): Promise<void> {
    if (!this.consumer) {
      const i = this.startQueues.indexOf(queue);
      if (i >= 0) this.startQueues.splice(i, 1);
      return;
    }
    await this.consumer.cancelQueue(queue);
    this.logger.log(`Cancelled consuming from ${queue}`);
  }

  /** Slots now, and the prefetch: slots × prefetchMultiplier, counted from 1 slot when autoscale is at 0. */
  pool(): { size: number; prefetch: number } {
    const size = this.slots.size;
    return { size, prefetch: Math.max(size, 1) * this.config.worker.prefetchMultiplier };
  }

  async resizePool(slots: number): Promise<void> {
    if (!Number.isInteger(slots) || slots < 0)
      throw new RangeError(`pool size must be a whole number >= 0, got ${slots}`);
    if (slots === this.slots.size) return;
    this.logger.log(`Pool resized from ${this.slots.size} to ${slots} slot(s).`);
    this.slots.resize(slots);
    if (this.consumer && !this.stopping) await this.consumer.setPrefetch(this.pool().prefetch);
  }

  /** Revokes ids: waiting ones are discarded when their turn comes; with terminate, running ones are abandoned. */
  revoke(ids: string[], terminate: boolean): void {
    this.revoked.add(ids);
    if (!terminate) return;
    for (const id of ids) this.executor.terminate(id);
  }

  private onDelivery(delivery: Delivery): void {
    if (this.stopping) {
      void delivery.reject(true);
      return;
    }
    if (delivery.transportError) {
      void this.deadLetter(delivery, delivery.transportError.message);
      return;
    }
    let req: TaskRequest;
    try {
      req = parseTaskMessage(delivery.message, this.config.acceptContent);
    } catch (err) {
      const reason =
        err instanceof InvalidTaskMessageError ? err.message : `Could not read the message: ${(err as Error).message}`;
      void this.deadLetter(delivery, reason);
      return;
    }
    const def = this.registry.find(req.task);
    if (!def) {
      void this.unregistered(req, delivery);
      return;
    }
    const job: Job = { req, def, options: this.optionsOf(def), delivery, acked: false };
    if (logEnabled('log')) this.logger.log(`Task ${req.shadow ?? req.task}[${req.id}] received`);
    this.events.emitLazy('received', () => ({ type: 'received', request: this.executor.requestInfo(req, delivery) }));
    if (this.discardIfRevoked(job)) return;
    const delayMs = req.eta ? req.eta.getTime() - Date.now() : 0;
    if (delayMs > 0) this.waits.wait(job, delayMs, req.eta!);
    else this.waits.admit(job);
  }

  /** Expired or revoked: never run; stored REVOKED ("expired" / "revoked") by the executor, then acked. */
  discardIfRevoked(job: Job): boolean {
    const { req } = job;
    const reason = this.revoked.has(req.id)
      ? 'revoked'
      : req.expires && req.expires.getTime() <= Date.now()
        ? 'expired'
        : null;
    if (!reason) return false;
    if (reason === 'expired') this.revoked.add([req.id]);
    void (async () => {
      await this.executor
        .discard(req, job.delivery, reason)
        .catch((err: Error) => this.logger.error(`Task ${req.id}: could not store REVOKED (${err.message}).`));
      if (!job.acked) await job.delivery.ack().catch(() => undefined);
    })();
    return true;
  }

  private async unregistered(req: TaskRequest, delivery: Delivery): Promise<void> {
    const err = new NotRegisteredError(req.task);
    this.logger.error(
      `Received unregistered task of type '${req.task}'.\nThe message has been ignored and moved to ${delivery.queue}.dead-letter.\n` +
        `Did you decorate the method with @SharedTask('${req.task}') in a module this worker imports? Registered: ${this.registry.appNames().join(', ')}`,
    );
    await this.executor.storeNotRegistered(req).catch(() => undefined);
    await delivery
      .deadLetter(`NotRegistered: ${err.message}`)
      .catch((e: Error) => this.logger.error(`Could not dead-letter ${req.id}: ${e.message}`));
  }

  private async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const id = delivery.transportError ? null : peekTaskId(delivery.message);
    this.logger.error(
      `Received invalid task message${id ? ` ${id}` : ''} on queue ${delivery.queue}: ${reason} It was moved to ${delivery.queue}.dead-letter.`,
    );
    await delivery
      .deadLetter(reason)
      .catch((err: Error) => this.logger.error(`Could not dead-letter a message: ${err.message}`));
  }

  /** A task's execution options as this worker applies them. */
  optionsFor(taskName: string): ResolvedTaskOptions {
    return this.optionsOf(this.registry.get(taskName));
  }

  private optionsOf(def: TaskDefinition): ResolvedTaskOptions {
    let o = this.options.get(def.name);
    if (!o)
      this.options.set(
        def.name,
        (o = resolveTaskOptions(def.options, this.config.taskDefaults, this.config.trackStarted)),
      );
    return o;
  }

  /**
   * Warm stop: take nothing new, give back what has not started, wait up to `timeoutMs` for what runs.
   * Resolves to the number of tasks still running at the deadline.
   */
  drain(timeoutMs: number): Promise<number> {
    this.stopping = true;
    this.autoscaler?.stop();
    return this.stopper.drain(this.consumer, timeoutMs);
  }

  /** Cold stop: give every message back now, running or not. */
  abort(): Promise<void> {
    this.stopping = true;
    this.autoscaler?.stop();
    return this.stopper.abort(this.consumer);
  }
}
