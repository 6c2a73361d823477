import { logEnabled } from './log-level';
import { Logger } from '@nestjs/common';
import { Broker, Consumer, Delivery } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { InvalidTaskMessageError, NotRegisteredError } from '../errors';
import { TaskRequest, parseTaskMessage, peekTaskId } from '../protocol/task-message';
import { ResolvedTaskQueueOptions } from '../task-queue.options';
import { TaskRegistry } from '../registry/task.registry';
import { TaskDefinition } from '../registry/task-definition';
import { Settlement, TaskExecutor } from './task.executor';
import { TaskEvents } from '../events/task.events';
import { RateLimiter, parseRateLimit } from './rate-limiter';
import { RevokedSet } from './revoked.set';
import { ResolvedTaskOptions, resolveTaskOptions } from './task-options';
import type { JobView, WorkerState } from '../interfaces/worker-state.interface';

/**
 * Waits shorter than this are held in worker memory; longer ones go back to the broker's delayed
 * store (when the transport has one), so that an ETA days away holds no slot and survives restarts.
 */
const HOLD_IN_MEMORY_MS = 1000;

interface Job {
  req: TaskRequest;
  def: TaskDefinition;
  options: ResolvedTaskOptions;
  delivery: Delivery;
  /** Already acked on receipt (acksLate false). */
  acked: boolean;
  /** When it started running (epoch seconds), for `inspect active`. */
  startedAt?: number;
}


/**
 * Takes deliveries from the broker and runs them, at most `concurrency` at once. The broker's
 * prefetch bound (concurrency × prefetchMultiplier) caps what waits here. By default the ack comes
 * after the state is stored (acksLate), so a worker killed mid-task loses nothing. Bad messages are
 * dead-lettered with their reason, and the loop goes on.
 */
export class TaskConsumer implements WorkerState {
  private readonly logger = new Logger('TaskQueueWorker');
  private consumer: Consumer | null = null;
  private readonly waiting: Job[] = [];
  /** Jobs whose method is running: each holds one of the `concurrency` slots. */
  private readonly running = new Set<Job>();
  /** Every job from its start until its state is stored and its message settled (for shutdown). */
  private readonly inFlight = new Map<Promise<void>, Job>();
  private readonly scheduled = new Map<NodeJS.Timeout, Job>();
  private readonly options = new Map<string, ResolvedTaskOptions>();
  private readonly limiter = new RateLimiter();
  private readonly processed = new Map<string, number>();
  private readonly settling = new Set<Promise<void>>();
  private deferredCount = 0;
  private stopping = false;

  constructor(
    private readonly broker: Broker,
    private readonly backend: ResultBackend,
    private readonly registry: TaskRegistry,
    private readonly executor: TaskExecutor,
    private readonly events: TaskEvents,
    readonly revoked: RevokedSet,
    private readonly config: ResolvedTaskQueueOptions,
  ) {}

  /** Tasks running now. */
  get active(): number {
    return this.running.size;
  }

  /** Requests running now, received and waiting, and held until a time (Celery's active / reserved / scheduled). */
  snapshot(): { active: JobView[]; reserved: JobView[]; scheduled: JobView[] } {
    const view = (j: Job): JobView => ({ request: j.req, routingKey: j.delivery.routingKey, startedAt: j.startedAt ?? null });
    return {
      active: [...this.running].map(view),
      reserved: this.waiting.map(view),
      scheduled: [...this.scheduled.values()].map(view),
    };
  }

  /** Messages handed back to the broker's delayed store so far (ETAs over a second, rate-limited starts). */
  get deferred(): number {
    return this.deferredCount;
  }

  /** Tasks held in this worker's memory until a time (short waits only; longer ones wait in the broker). */
  get held(): number {
    return this.scheduled.size;
  }

  /** Tasks run so far, by name (Celery's `stats.total`). */
  processedByTask(): Record<string, number> {
    return Object.fromEntries(this.processed);
  }

  /** Tasks run so far. */
  get processedCount(): number {
    let n = 0;
    for (const v of this.processed.values()) n += v;
    return n;
  }

  /** Changes a task's execution options in this worker (remote control: rate_limit, time_limit). */
  setTaskOptions(taskName: string, patch: Partial<ResolvedTaskOptions>): void {
    const def = this.registry.get(taskName);
    this.options.set(taskName, { ...this.optionsOf(def), ...patch });
  }

  async start(): Promise<void> {
    const { queues, concurrency, prefetchMultiplier } = this.config.worker;
    this.consumer = await this.broker.consume({ queues, prefetch: concurrency * prefetchMultiplier }, (d) => this.onDelivery(d));
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
      const reason = err instanceof InvalidTaskMessageError ? err.message : `Could not read the message: ${(err as Error).message}`;
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
    if (delayMs > 0) this.wait(job, delayMs, req.eta!);
    else this.admit(job);
  }

  /**
   * Waits until `at`: in memory when short or when the broker cannot hold it, else in the broker.
   * `then` is what to do once the time has come in memory (a deferred message comes back as a new delivery).
   */
  private wait(job: Job, ms: number, at: Date, then: (job: Job) => void = (j) => this.admit(j)): void {
    const { delivery, req } = job;
    if (ms <= HOLD_IN_MEMORY_MS || !delivery.deferUntil || job.acked) return this.hold(job, ms, then);
    delivery.deferUntil(at).then(
      () => {
        this.deferredCount++;
        if (logEnabled('log')) this.logger.log(`Task ${req.task}[${req.id}] deferred to the broker until ${at.toISOString()}`);
      },
      (err: Error) => {
        this.logger.warn(`Task ${req.id}: could not defer it to the broker (${err.message}); holding it here.`);
        this.hold(job, Math.max(0, at.getTime() - Date.now()), then);
      },
    );
  }

  /** Applies the rate limits (this worker's, then the one shared through the broker), then runs or queues the job. */
  private admit(job: Job): void {
    const limit = job.options.rateLimit;
    const maxHold = job.delivery.deferUntil && !job.acked ? HOLD_IN_MEMORY_MS : Infinity;
    const wait = limit ? this.limiter.reserve(job.def.name, limit, maxHold) : 0;
    if (wait > 0) return this.wait(job, wait, new Date(Date.now() + wait), (j) => this.admitGlobal(j));
    this.admitGlobal(job);
  }

  private admitGlobal(job: Job): void {
    const limit = job.options.globalRateLimit;
    if (!limit || !this.broker.reserveRateSlot) return this.runOrQueue(job);
    const maxHold = job.delivery.deferUntil && !job.acked ? HOLD_IN_MEMORY_MS : Infinity;
    this.broker.reserveRateSlot(job.def.name, parseRateLimit(limit), maxHold).then(
      (wait) => (wait > 0 ? this.wait(job, wait, new Date(Date.now() + wait), (j) => this.runOrQueue(j)) : this.runOrQueue(job)),
      (err: Error) => {
        this.logger.warn(`Task ${job.req.id}: the shared rate limit could not be checked (${err.message}); the message goes back to the queue.`);
        void job.delivery.reject(true).catch(() => undefined);
      },
    );
  }

  private runOrQueue(job: Job): void {
    if (this.running.size < this.config.worker.concurrency) this.run(job);
    else this.waiting.push(job);
  }

  /** Keeps a job in memory until a short wait is over (or when the broker cannot hold it). */
  private hold(job: Job, ms: number, then: (job: Job) => void): void {
    const timer = setTimeout(() => {
      this.scheduled.delete(timer);
      if (!this.stopping) then(job);
    }, ms);
    this.scheduled.set(timer, job);
  }

  /**
   * A slot is held while the task's method runs and is freed as soon as it settles: storing the
   * state, publishing workflow steps, hooks and the ack then overlap the next task. Memory stays
   * bounded: a message counts against the broker's prefetch until it is settled (with acksLate off
   * the slot is held to the end instead).
   */
  private run(job: Job): void {
    this.running.add(job);
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      this.running.delete(job);
      const next = this.waiting.shift();
      if (next && !this.stopping) this.run(next);
      else if (next) this.waiting.unshift(next);
    };
    const p = this.runOne(job, free).finally(() => {
      free();
      this.inFlight.delete(p);
    });
    this.inFlight.set(p, job);
  }

  private async runOne(job: Job, free: () => void): Promise<void> {
    const { req, def, delivery, options } = job;
    if (this.discardIfRevoked(job)) return;
    if (!options.acksLate) {
      job.acked = true;
      await delivery.ack().catch((err: Error) => this.logger.warn(`Task ${req.id}: ack failed (${err.message}).`));
    }
    job.startedAt = Date.now() / 1000;
    let settlement: Settlement;
    try {
      // Acked on receipt, the message no longer counts against the prefetch: the slot is then the
      // only bound on tails in flight, so it is held until the state is stored.
      settlement = await this.executor.execute(req, def, delivery, options, job.acked ? undefined : free);
    } catch (err) {
      this.logger.error(`Task ${req.task}[${req.id}]: its state could not be written (${(err as Error).message}); the message goes back to the queue.`);
      settlement = { kind: 'requeue' };
    }
    this.processed.set(def.name, (this.processed.get(def.name) ?? 0) + 1);
    // The slot is free once the state is stored; the ack goes out with the next batch. A crash before
    // it lands leaves the message unacked, so it is delivered again (at-least-once, as before).
    if (!job.acked) this.track(this.settle(delivery, settlement, req.id));
  }

  /** Settlements in flight, awaited by a shutdown so that no ack is lost on a clean stop. */
  private track(p: Promise<void>): void {
    this.settling.add(p);
    void p.finally(() => this.settling.delete(p));
  }

  private async settle(delivery: Delivery, s: Settlement, id: string): Promise<void> {
    try {
      if (s.kind === 'ack') await delivery.ack();
      else if (s.kind === 'requeue') await delivery.reject(true);
      else await delivery.deadLetter(s.reason);
    } catch (err) {
      this.logger.warn(`Task ${id}: settling the message failed (${(err as Error).message}); the broker may deliver it again.`);
    }
  }

  /** Expired or revoked: never run; stored REVOKED ("expired" / "revoked"), then acked. */
  private discardIfRevoked(job: Job): boolean {
    const { req } = job;
    const reason = this.revoked.has(req.id) ? 'revoked' : req.expires && req.expires.getTime() <= Date.now() ? 'expired' : null;
    if (!reason) return false;
    if (reason === 'expired') this.revoked.add([req.id]);
    void (async () => {
      await this.executor.discard(req, job.delivery, reason).catch((err: Error) => this.logger.error(`Task ${req.id}: could not store REVOKED (${err.message}).`));
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
    await delivery.deadLetter(`NotRegistered: ${err.message}`).catch((e: Error) => this.logger.error(`Could not dead-letter ${req.id}: ${e.message}`));
  }

  private async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const id = delivery.transportError ? null : peekTaskId(delivery.message);
    this.logger.error(`Received invalid task message${id ? ` ${id}` : ''} on queue ${delivery.queue}: ${reason} It was moved to ${delivery.queue}.dead-letter.`);
    await delivery.deadLetter(reason).catch((err: Error) => this.logger.error(`Could not dead-letter a message: ${err.message}`));
  }

  /** A task's execution options as this worker applies them. */
  optionsFor(taskName: string): ResolvedTaskOptions {
    return this.optionsOf(this.registry.get(taskName));
  }

  private optionsOf(def: TaskDefinition): ResolvedTaskOptions {
    let o = this.options.get(def.name);
    if (!o) this.options.set(def.name, (o = resolveTaskOptions(def.options, this.config.taskDefaults, this.config.trackStarted)));
    return o;
  }

  /**
   * Warm stop: take nothing new, give back what has not started, wait up to `timeoutMs` for what runs.
   * Resolves to the number of tasks still running at the deadline (their messages stay unacked, so
   * the broker gives them to another worker).
   */
  async drain(timeoutMs: number): Promise<number> {
    this.stopping = true;
    await this.consumer?.stop();
    await this.giveBack();
    if (this.inFlight.size > 0) {
      this.logger.log(`Waiting up to ${timeoutMs / 1000}s for ${this.inFlight.size} running task(s) to finish…`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.inFlight.keys()]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    await Promise.allSettled([...this.settling]);
    this.revoked.flush();
    return this.inFlight.size;
  }

  /** Cold stop: give every message back now, running or not. */
  async abort(): Promise<void> {
    this.stopping = true;
    await this.consumer?.stop();
    await this.giveBack();
    await Promise.all([...this.inFlight.values()].filter((j) => !j.acked).map((j) => j.delivery.reject(true).catch(() => undefined)));
    this.revoked.flush();
  }

  private async giveBack(): Promise<void> {
    const jobs = [...this.waiting.splice(0), ...this.scheduled.values()];
    for (const t of this.scheduled.keys()) clearTimeout(t);
    this.scheduled.clear();
    await Promise.all(jobs.filter((j) => !j.acked).map((j) => j.delivery.reject(true).catch(() => undefined)));
  }
}
