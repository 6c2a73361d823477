import { Logger } from '@nestjs/common';
import { Delivery } from '../brokers/broker.interface';
import { Settlement, TaskExecutor } from './task.executor';
import { DispatchState, Job } from './task-job';

/**
 * The `concurrency` slots and the settling of messages. A slot is held while the task's method runs
 * and is freed as soon as it settles: storing the state, publishing workflow steps, hooks and the ack
 * then overlap the next task. Memory stays bounded: a message counts against the broker's prefetch
 * until it is settled (with acksLate off the slot is held to the end instead).
 */
export class TaskSlots {
  /** Jobs admitted but waiting for a slot (Celery's reserved). */
  readonly waiting: Job[] = [];
  /** Jobs whose method is running: each holds one of the `concurrency` slots. */
  readonly running = new Set<Job>();
  /** Every job from its start until its state is stored and its message settled (for shutdown). */
  readonly inFlight = new Map<Promise<void>, Job>();
  /** Settlements in flight, awaited by a shutdown so that no ack is lost on a clean stop. */
  readonly settling = new Set<Promise<void>>();
  /** Tasks run so far, by name. */
  readonly processed = new Map<string, number>();

  constructor(
    private readonly executor: TaskExecutor,
    private readonly state: DispatchState,
    private concurrency: number,
    private readonly logger: Logger,
  ) {}

  /** Slots now: remote control (pool_grow, pool_shrink) and the autoscaler change it. */
  get size(): number {
    return this.concurrency;
  }

  /** Tasks held here, running or waiting for a slot (what the autoscaler sizes the slots by). */
  get held(): number {
    return this.running.size + this.waiting.length;
  }

  /** More slots start waiting jobs at once; fewer let running ones finish and start none until under. */
  resize(slots: number): void {
    this.concurrency = slots;
    while (this.running.size < slots && this.waiting.length && !this.state.stopping) this.run(this.waiting.shift()!);
  }

  runOrQueue(job: Job): void {
    if (this.running.size < this.concurrency) this.run(job);
    else this.waiting.push(job);
  }

  private run(job: Job): void {
    this.running.add(job);
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      this.running.delete(job);
      const next = this.running.size < this.concurrency ? this.waiting.shift() : undefined;
      if (next && !this.state.stopping) this.run(next);
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
    if (this.state.discardIfRevoked(job)) return;
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
      this.logger.error(
        `Task ${req.task}[${req.id}]: its state could not be written (${(err as Error).message}); the message goes back to the queue.`,
      );
      settlement = { kind: 'requeue' };
    }
    this.processed.set(def.name, (this.processed.get(def.name) ?? 0) + 1);
    // The ack goes out with the next batch. A crash before it lands leaves the message unacked, so it
    // is delivered again (at-least-once). `settled`: it already went, in one script with the result.
    if (!job.acked && settlement.kind !== 'settled') this.track(this.settle(delivery, settlement, req.id));
  }

  private track(p: Promise<void>): void {
    this.settling.add(p);
    void p.finally(() => this.settling.delete(p));
  }

  private async settle(delivery: Delivery, s: Settlement, id: string): Promise<void> {
    try {
      if (s.kind === 'ack') await delivery.ack();
      else if (s.kind === 'requeue') await delivery.reject(true);
      else if (s.kind === 'deadLetter') await delivery.deadLetter(s.reason);
    } catch (err) {
      this.logger.warn(
        `Task ${id}: settling the message failed (${(err as Error).message}); the broker may deliver it again.`,
      );
    }
  }
}
