import { Logger } from '@nestjs/common';
import { Broker } from '../brokers/broker.interface';
import { logEnabled } from './log-level';
import { RateLimiter } from './rate-limiter';
import { parseRateLimit } from '../options/rate-limit';
import { TaskSlots } from './task.slots';
import { DispatchState, HOLD_IN_MEMORY_MS, Job } from './task-job';
import { MAX_TIMER_MS } from './long-timer';

/**
 * ETA and rate-limit waits: a job whose time has not come, or whose start a rate limit (this
 * worker's, then the one shared through the broker) puts off, waits here before it takes a slot.
 * Short waits are held in memory; longer ones go back to the broker's delayed store when it has one.
 */
export class TaskWaits {
  /** Jobs held in memory until a time (Celery's scheduled). */
  readonly scheduled = new Map<NodeJS.Timeout, Job>();
  /** Messages handed back to the broker's delayed store so far. */
  deferredCount = 0;
  private readonly limiter = new RateLimiter();

  constructor(
    private readonly broker: Broker,
    private readonly slots: TaskSlots,
    private readonly state: DispatchState,
    private readonly logger: Logger,
  ) {}

  /**
   * Waits until `at`: in memory when short or when the broker cannot hold it, else in the broker.
   * `then` is what to do once the time has come in memory (a deferred message comes back as a new delivery).
   */
  wait(job: Job, ms: number, at: Date, then: (job: Job) => void = (j) => this.admit(j)): void {
    const { delivery, req } = job;
    if (ms <= HOLD_IN_MEMORY_MS || !delivery.deferUntil || job.acked) return this.hold(job, ms, then);
    delivery.deferUntil(at).then(
      () => {
        this.deferredCount++;
        if (logEnabled('log'))
          this.logger.log(`Task ${req.task}[${req.id}] deferred to the broker until ${at.toISOString()}`);
      },
      (err: Error) => {
        this.logger.warn(`Task ${req.id}: could not defer it to the broker (${err.message}); holding it here.`);
        this.hold(job, Math.max(0, at.getTime() - Date.now()), then);
      },
    );
  }

  /** Applies the rate limits (this worker's, then the one shared through the broker), then runs or queues the job. */
  admit(job: Job): void {
    const limit = job.options.rateLimit;
    const maxHold = job.delivery.deferUntil && !job.acked ? HOLD_IN_MEMORY_MS : Infinity;
    const wait = limit ? this.limiter.reserve(job.def.name, limit, maxHold) : 0;
    if (wait > 0) return this.wait(job, wait, new Date(Date.now() + wait), (j) => this.admitGlobal(j));
    this.admitGlobal(job);
  }

  private admitGlobal(job: Job): void {
    const limit = job.options.globalRateLimit;
    if (!limit || !this.broker.reserveRateSlot) return this.slots.runOrQueue(job);
    const maxHold = job.delivery.deferUntil && !job.acked ? HOLD_IN_MEMORY_MS : Infinity;
    this.broker.reserveRateSlot(job.def.name, parseRateLimit(limit), maxHold).then(
      (wait) =>
        wait > 0
          ? this.wait(job, wait, new Date(Date.now() + wait), (j) => this.slots.runOrQueue(j))
          : this.slots.runOrQueue(job),
      (err: Error) => {
        this.logger.warn(
          `Task ${job.req.id}: the shared rate limit could not be checked (${err.message}); the message goes back to the queue.`,
        );
        void job.delivery.reject(true).catch(() => undefined);
      },
    );
  }

  /** Keeps a job in memory until a short wait is over (or when the broker cannot hold it). */
  private hold(job: Job, ms: number, then: (job: Job) => void): void {
    // Node fires a timer over 2^31 - 1 ms at once: a far ETA is held in chained steps.
    const step = Math.min(ms, MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.scheduled.delete(timer);
      if (this.state.stopping) return;
      if (ms > step) this.hold(job, ms - step, then);
      else then(job);
    }, step);
    this.scheduled.set(timer, job);
  }
}
